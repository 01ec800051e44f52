//! The HTTP API: health with the schema's revision, organisations, and interactions.
//!
//! | request | answer |
//! |---|---|
//! | `GET /health` | `{"status": "ok", "revision": "…", "at_head": true}` |
//! | `POST /organisations` `{"name": "Acme"}` | `201 {"id": 1}` |
//! | `POST /interactions` `{"organisation_id": 1, "type": "call", "description": "…"}` | `201 {"id": 1, "status": "pending"}` |
//! | `GET /interactions` | `[{"id": 1, "organisation_id": 1, "type": "call", "status": "pending", "description": "…"}]` |

use migrate_runtime::{Chain, Migrator};
use postgres::{Client, NoTls};
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

/// An answer: status and JSON body.
type Answer = (u16, Value);

fn error(status: u16, message: impl Into<String>) -> Answer {
    (status, json!({ "error": message.into() }))
}

/// Serves until the process is stopped.
pub(crate) fn serve(url: &str, port: u16, chain: &Chain) -> Result<(), String> {
    let mut client = Client::connect(url, NoTls).map_err(|e| migrate_runtime::describe(&e))?;
    let server =
        Server::http(("127.0.0.1", port)).map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    println!(
        "listening on http://127.0.0.1:{port} (GET /health, POST /organisations, GET|POST /interactions)"
    );
    let migrator = Migrator::new(chain);
    for mut request in server.incoming_requests() {
        let (status, body) = answer(&mut client, &migrator, url, &mut request);
        let json =
            Header::from_bytes("Content-Type", "application/json").map_err(|()| "bad header".to_owned())?;
        let response = Response::from_string(body.to_string()).with_status_code(status).with_header(json);
        let _ = request.respond(response);
    }
    Ok(())
}

fn answer(client: &mut Client, migrator: &Migrator, url: &str, request: &mut Request) -> Answer {
    let mut text = String::new();
    if request.as_reader().read_to_string(&mut text).is_err() {
        return error(400, "the body is not UTF-8");
    }
    let body: Value =
        if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
    match (request.method(), request.url()) {
        (Method::Get, "/health") => match migrator.current(url) {
            Ok(rows) => {
                let at_head = migrator.are_heads(&rows);
                (200, json!({ "status": "ok", "revision": rows.join(","), "at_head": at_head }))
            }
            Err(e) => error(503, e.to_string()),
        },
        (Method::Post, "/organisations") => {
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return error(400, "expected {\"name\": \"…\"}");
            };
            match client.query_one("INSERT INTO organisations (name) VALUES ($1) RETURNING id", &[&name]) {
                Ok(row) => (201, json!({ "id": row.get::<_, i64>(0) })),
                Err(e) => error(500, migrate_runtime::describe(&e)),
            }
        }
        (Method::Post, "/interactions") => {
            let organisation = body.get("organisation_id").and_then(Value::as_i64);
            let kind = body.get("type").and_then(Value::as_str);
            let description = body.get("description").and_then(Value::as_str).unwrap_or("");
            let (Some(organisation), Some(kind)) = (organisation, kind) else {
                return error(
                    400,
                    "expected {\"organisation_id\": 1, \"type\": \"call\", \"description\": \"…\"}",
                );
            };
            let inserted = client.query_one(
                "INSERT INTO interactions (organisation_id, type, description, status) \
                 VALUES ($1, $2::text::interaction_type, $3, 'pending') RETURNING id, status",
                &[&organisation, &kind, &description],
            );
            match inserted {
                Ok(row) => (201, json!({ "id": row.get::<_, i64>(0), "status": row.get::<_, String>(1) })),
                Err(e) => error(400, migrate_runtime::describe(&e)),
            }
        }
        (Method::Get, "/interactions") => {
            let rows = client.query(
                "SELECT id, organisation_id, type::text, status, coalesce(description, '') FROM interactions ORDER BY id",
                &[],
            );
            match rows {
                Ok(rows) => {
                    let items: Vec<Value> = rows
                        .iter()
                        .map(|r| {
                            json!({
                                "id": r.get::<_, i64>(0),
                                "organisation_id": r.get::<_, i64>(1),
                                "type": r.get::<_, String>(2),
                                "status": r.get::<_, String>(3),
                                "description": r.get::<_, String>(4),
                            })
                        })
                        .collect();
                    (200, Value::Array(items))
                }
                Err(e) => error(500, migrate_runtime::describe(&e)),
            }
        }
        _ => error(404, "no such route: GET /health, POST /organisations, GET|POST /interactions"),
    }
}
