//! The HTTP API: health with the schema's revision, organisations, and interactions.
//!
//! | request | answer |
//! |---|---|
//! | `GET /health` | `{"status": "ok", "revision": "…", "at_head": true}` |
//! | `POST /organisations` `{"name": "Acme"}` | `201 {"id": 1}` |
//! | `POST /interactions` `{"organisation_id": 1, "type": "call", "description": "…"}` | `201 {"id": 1, "status": "pending"}` |
//! | `GET /interactions` | `[{"id": 1, "organisation_id": 1, "type": "call", "status": "pending", "description": "…"}]` |

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::{Object, Pool};
use migrate_runtime::Migrator;
use serde_json::{Value, json};

/// What every handler shares: the pool, and the migrator that tells the schema's revision.
#[derive(Clone)]
struct App {
    pool: Pool,
    migrator: Arc<Migrator>,
}

/// An answer: status and JSON body.
type Answer = (StatusCode, Json<Value>);

fn error(status: StatusCode, message: impl Into<String>) -> Answer {
    (status, Json(json!({ "error": message.into() })))
}

/// The routes.
pub(crate) fn router(pool: Pool, migrator: Migrator) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/organisations", post(create_organisation))
        .route("/interactions", post(create_interaction).get(list_interactions))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such route: GET /health, POST /organisations, GET|POST /interactions",
            )
        })
        .with_state(App { pool, migrator: Arc::new(migrator) })
}

async fn client(app: &App) -> Result<Object, Answer> {
    app.pool
        .get()
        .await
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, format!("no database connection: {e}")))
}

/// The schema's revision, read on a pooled connection.
async fn health(State(app): State<App>) -> Answer {
    let client = match client(&app).await {
        Ok(client) => client,
        Err(answer) => return answer,
    };
    match app.migrator.current_async(&**client).await {
        Ok(rows) => {
            let at_head = app.migrator.are_heads(&rows);
            (StatusCode::OK, Json(json!({ "status": "ok", "revision": rows.join(","), "at_head": at_head })))
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn create_organisation(State(app): State<App>, body: Option<Json<Value>>) -> Answer {
    let Some(name) = body.as_ref().and_then(|b| b.get("name")).and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "expected {\"name\": \"…\"}");
    };
    let client = match client(&app).await {
        Ok(client) => client,
        Err(answer) => return answer,
    };
    match client.query_one("INSERT INTO organisations (name) VALUES ($1) RETURNING id", &[&name]).await {
        Ok(row) => (StatusCode::CREATED, Json(json!({ "id": row.get::<_, i64>(0) }))),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn create_interaction(State(app): State<App>, body: Option<Json<Value>>) -> Answer {
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let organisation = body.get("organisation_id").and_then(Value::as_i64);
    let kind = body.get("type").and_then(Value::as_str);
    let description = body.get("description").and_then(Value::as_str).unwrap_or("");
    let (Some(organisation), Some(kind)) = (organisation, kind) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"organisation_id\": 1, \"type\": \"call\", \"description\": \"…\"}",
        );
    };
    let client = match client(&app).await {
        Ok(client) => client,
        Err(answer) => return answer,
    };
    let inserted = client
        .query_one(
            "INSERT INTO interactions (organisation_id, type, description, status) \
             VALUES ($1, $2::text::interaction_type, $3, 'pending') RETURNING id, status",
            &[&organisation, &kind, &description],
        )
        .await;
    match inserted {
        Ok(row) => (
            StatusCode::CREATED,
            Json(json!({ "id": row.get::<_, i64>(0), "status": row.get::<_, String>(1) })),
        ),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn list_interactions(State(app): State<App>) -> Answer {
    let client = match client(&app).await {
        Ok(client) => client,
        Err(answer) => return answer,
    };
    let rows = client
        .query(
            "SELECT id, organisation_id, type::text, status, coalesce(description, '') FROM interactions ORDER BY id",
            &[],
        )
        .await;
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
            (StatusCode::OK, Json(Value::Array(items)))
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
