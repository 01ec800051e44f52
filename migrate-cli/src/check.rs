//! `check`: every compile-time rule over the folder, printed as rustc prints them, in the
//! same words as the `#[migration]` macro (both come from migrate-core).

use anyhow::{Result, bail};
use migrate_build::{Folder, Position};
use migrate_core::diagnostic::Diagnostic;
use migrate_core::listing::json_string;

use crate::project::Project;

/// One problem to print.
pub(crate) struct Problem {
    rule: Option<String>,
    file: String,
    position: Position,
    message: String,
    help: Option<String>,
}

/// The source line `line` of `text` (1-based).
fn source_line(text: &str, line: usize) -> &str {
    text.lines().nth(line.saturating_sub(1)).unwrap_or("")
}

/// A problem as rustc shows it: the message, the place, the line with a caret under the
/// token, the help.
pub(crate) fn render(problem: &Problem, text: &str) -> String {
    let Position { line, column, end_line, end_column } = problem.position;
    if line == 0 {
        // An entry of the folder that is not a migration: no line to show.
        let mut out = match &problem.rule {
            Some(rule) => format!("error[{rule}]: {}\n --> {}\n", problem.message, problem.file),
            None => format!("error: {}\n --> {}\n", problem.message, problem.file),
        };
        if let Some(help) = &problem.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        return out;
    }
    let gutter = " ".repeat(line.to_string().len());
    let code = source_line(text, line);
    let end = if end_line == line { end_column.max(column + 1) } else { code.chars().count() + 1 };
    let caret = format!("{}{}", " ".repeat(column.saturating_sub(1)), "^".repeat(end - column));
    let mut out = match &problem.rule {
        Some(rule) => format!("error[{rule}]: {}\n", problem.message),
        None => format!("error: {}\n", problem.message),
    };
    out.push_str(&format!(
        "{gutter}--> {}:{line}:{column}\n{gutter} |\n{line} | {code}\n{gutter} | {caret}\n",
        problem.file
    ));
    if let Some(help) = &problem.help {
        out.push_str(&format!("{gutter} = help: {help}\n"));
    }
    out
}

/// Every problem, with the text of its file (borrowed from `folder`).
pub(crate) fn problems<'f>(folder: &'f Folder, diagnostics: &[Diagnostic]) -> Vec<(Problem, &'f str)> {
    let mut problems = Vec::new();
    for file in &folder.files {
        if let Some(error) = &file.parse_error {
            problems.push((
                Problem {
                    rule: None,
                    file: file.source.display.clone(),
                    position: Position {
                        line: error.line,
                        column: error.column,
                        end_line: error.line,
                        end_column: error.column + 1,
                    },
                    message: format!("`{}` is not valid Rust: {}", file.source.display, error.message),
                    help: None,
                },
                file.text.as_str(),
            ));
        }
        // Tokens that are not Rust: rustc's parser rejects them before any macro runs.
        if file.parse_error.is_none()
            && file.too_deep.is_none()
            && let Err(error) = syn::parse_file(&file.text)
        {
            let start = error.span().start();
            let end = error.span().end();
            let column = start.column + 1;
            let end_column =
                if end.line == start.line { (end.column + 1).max(column + 1) } else { column + 1 };
            problems.push((
                Problem {
                    rule: None,
                    file: file.source.display.clone(),
                    position: Position {
                        line: start.line.max(1),
                        column,
                        end_line: start.line.max(1),
                        end_column,
                    },
                    message: format!("`{}` is not valid Rust: {error}", file.source.display),
                    help: None,
                },
                file.text.as_str(),
            ));
        }
        // What the `#[migration]` macro reports itself (an unreadable attribute, say): the
        // build fails on it, so the check does too, at the same token.
        let deep = migrate_core::syntax::too_deep_message();
        if let Some(position) = file.too_deep {
            let (message, help) = deep.split_once("\n= help: ").unwrap_or((&deep, ""));
            problems.push((
                Problem {
                    rule: None,
                    file: file.source.display.clone(),
                    position,
                    message: message.to_owned(),
                    help: Some(help.to_owned()),
                },
                file.text.as_str(),
            ));
        }
        for (message, position) in file.syntax_errors.iter().filter(|(message, _)| *message != deep) {
            let (message, help) = match message.split_once("\n= help: ") {
                Some((message, help)) => (message.to_owned(), Some(help.to_owned())),
                None => (message.clone(), None),
            };
            problems.push((
                Problem { rule: None, file: file.source.display.clone(), position: *position, message, help },
                file.text.as_str(),
            ));
        }
    }
    for diagnostic in diagnostics {
        let Some(file) = folder.file(diagnostic) else {
            // An entry of the folder that is not a migration, or the seal: no line to show.
            let display = folder
                .entries
                .iter()
                .find(|e| e.path == diagnostic.file)
                .map(|e| &e.display)
                .or(folder.seal.as_ref().filter(|s| s.path == diagnostic.file).map(|s| &s.display))
                .unwrap_or(&diagnostic.file);
            problems.push((
                Problem {
                    rule: Some(diagnostic.rule.to_string()),
                    file: display.clone(),
                    position: Position { line: 0, column: 0, end_line: 0, end_column: 0 },
                    message: diagnostic.message.clone(),
                    help: Some(diagnostic.help.clone()),
                },
                "",
            ));
            continue;
        };
        let position = folder.position(diagnostic).unwrap_or(Position {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
        });
        problems.push((
            Problem {
                rule: Some(diagnostic.rule.to_string()),
                file: file.source.display.clone(),
                position,
                message: diagnostic.message.clone(),
                help: Some(diagnostic.help.clone()),
            },
            file.text.as_str(),
        ));
    }
    problems.sort_by(|(a, _), (b, _)| {
        (&a.file, a.position.line, a.position.column).cmp(&(&b.file, b.position.line, b.position.column))
    });
    problems
}

/// Runs the check; returns whether the folder is clean.
pub(crate) fn check(project: &Project, json: bool) -> Result<bool> {
    let folder = project.scan()?;
    let checked = folder.check(&project.settings.config);
    if let Some(error) = checked.setting_errors.first() {
        bail!("invalid [package.metadata.migrate] in `{}`: {error}", project.manifest.display());
    }
    let diagnostics = checked.diagnostics;
    let problems = problems(&folder, &diagnostics);
    if json {
        let items: Vec<String> = problems
            .iter()
            .map(|(p, _)| {
                format!(
                    "{{\"rule\": {}, \"file\": {}, \"line\": {}, \"column\": {}, \"message\": {}, \"help\": {}}}",
                    p.rule.as_deref().map_or("null".to_owned(), json_string),
                    json_string(&p.file),
                    p.position.line,
                    p.position.column,
                    json_string(&p.message),
                    p.help.as_deref().map_or("null".to_owned(), json_string),
                )
            })
            .collect();
        outln!("[{}]", items.join(",\n "))?;
    } else {
        for (problem, text) in &problems {
            outln!("{}", render(problem, text))?;
        }
        if problems.is_empty() {
            outln!("{} migration files in {}: no problem", folder.files.len(), folder.display)?;
        } else {
            outln!(
                "error: {} problem{} in {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                folder.display
            )?;
        }
    }
    Ok(problems.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_renders_like_rustc() {
        let problem = Problem {
            rule: Some("vague_slug".into()),
            file: "migrations/x.rs".into(),
            position: Position { line: 3, column: 5, end_line: 3, end_column: 14 },
            message: "slug `update_db` is vague".into(),
            help: Some("name the change".into()),
        };
        let text = "/// Why.\n#[migration(rev = \"a\")]\nmod update_db {}\n";
        assert_eq!(
            render(&problem, text),
            "error[vague_slug]: slug `update_db` is vague\n --> migrations/x.rs:3:5\n  |\n3 | mod update_db {}\n  |     ^^^^^^^^^\n  = help: name the change\n"
        );
    }
}
