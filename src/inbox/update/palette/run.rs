//! Running one `:` line: actions, select, filter, sort, view, theme,
//! export, and key commands by name.

use tui_input::Input;

use super::*;
use crate::inbox::command::Command;
use crate::inbox::msg::{Effect, ExportFormat};
use crate::inbox::state::{Level, Popup, State};
use crate::query::{Query, SortField, SortSpec};
use crate::wire::{BatchAction, ForwardRequest, ReasonCode, ReasonInput, RejectRequest};

/// Runs one command line.
/// Key commands run by name go through `run`, the reducer's dispatcher
/// (handed in, so the palette does not import it).
pub fn run_line(state: &mut State, text: &str, fx: &mut Vec<Effect>, run: Dispatch) {
    let text = text.trim().trim_start_matches(':');
    let (cmd, rest) = match text.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (text, ""),
    };
    let err = |state: &mut State, why: String| say(state, Level::Error, format!(":{cmd}: {why}"));
    let hidden_for_monitor = ["accept", "reject", "forward", "withdraw"];
    if state.monitor() && hidden_for_monitor.contains(&cmd) {
        err(state, "read-only monitor: no actions here".to_string());
        return;
    }
    match cmd {
        "accept" | "withdraw" => {
            if !rest.is_empty() {
                return err(state, "expected no argument".to_string());
            }
            let command = if cmd == "accept" {
                Command::Accept
            } else {
                Command::Withdraw
            };
            act(state, command, fx, run);
        }
        "reject" => {
            let (code, note) = split_word(rest);
            let Some(code) = ReasonCode::parse(code) else {
                return err(
                    state,
                    format!("expected a reason code ({}) then an optional note", codes()),
                );
            };
            if code == ReasonCode::Other && note.is_none() {
                return err(state, "expected a note after \"other\"".to_string());
            }
            let template = BatchAction::Reject(RejectRequest {
                version: 0,
                reason: ReasonInput { code, note },
            });
            act_with(state, template, fx);
        }
        "forward" => {
            let (to, note) = split_word(rest);
            if to.is_empty() {
                return err(
                    state,
                    "expected a partner id (Tab completes) then an optional note".to_string(),
                );
            }
            if !state.partners.is_empty() && !state.partners.iter().any(|p| p.id == to) {
                return err(
                    state,
                    format!("expected a partner id (Tab completes), not \"{to}\""),
                );
            }
            let template = BatchAction::Forward(ForwardRequest {
                version: 0,
                to_partner: to.to_string(),
                note,
                commission_pct: None,
                expires_in_hours: None,
            });
            act_with(state, template, fx);
        }
        "select" => match Query::parse(rest) {
            Ok(q) => {
                let p = state.pane(state.active);
                let ids: Vec<String> = p
                    .all
                    .iter()
                    .map(|&i| &state.entries[i as usize].referral)
                    .filter(|r| q.matches(r, state.now))
                    .map(|r| r.id.clone())
                    .collect();
                let n = ids.len();
                state.range = None;
                state.marks.extend(ids);
                let total = state.marks.len();
                say(
                    state,
                    Level::Info,
                    format!("marked {n} matching; {total} selected"),
                );
            }
            Err(e) => err(
                state,
                format!("{e} (expected a query, e.g. status:pending)"),
            ),
        },
        "filter" => {
            state.view = None;
            state.filter = Input::new(rest.to_string());
            set_filter(state, rest.to_string());
            if let Some(e) = state.filter_error.clone() {
                err(state, format!("{e}; the last good filter stays applied"));
            }
        }
        "sort" => {
            if rest.is_empty() || rest == "newest" {
                set_sort(state, None);
                return;
            }
            match SortSpec::parse(rest) {
                Some(spec) => set_sort(state, Some(spec)),
                None => {
                    let names: Vec<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
                    err(
                        state,
                        format!(
                            "expected a field ({}), optionally with a leading -",
                            names.join(", ")
                        ),
                    )
                }
            }
        }
        "view" => {
            if rest.is_empty() {
                select_view(state, None);
                say(state, Level::Info, "no view: every referral".to_string());
                return;
            }
            match state.views.iter().position(|v| v.0 == rest) {
                Some(i) => select_view(state, Some(i)),
                None => {
                    let names: Vec<&str> = state.views.iter().map(|v| v.0.as_str()).collect();
                    let known = if names.is_empty() {
                        "none configured".to_string()
                    } else {
                        names.join(", ")
                    };
                    err(state, format!("expected a view name ({known})"))
                }
            }
        }
        "theme" => {
            if rest.is_empty() {
                return err(
                    state,
                    format!("expected a theme name ({})", state.themes.join(", ")),
                );
            }
            fx.push(Effect::SetTheme(rest.to_string()));
        }
        "export" => {
            let lower = rest.to_lowercase();
            let format = if lower.ends_with(".csv") {
                ExportFormat::Csv
            } else if lower.ends_with(".json") {
                ExportFormat::Json
            } else {
                return err(
                    state,
                    "expected a file path ending in .csv or .json".to_string(),
                );
            };
            let p = state.pane(state.active);
            let referrals = p
                .rows
                .iter()
                .map(|&i| state.entries[i as usize].referral.clone())
                .collect();
            fx.push(Effect::Export {
                path: rest.to_string(),
                format,
                referrals,
            });
        }
        "help" => state.popup = Some(Popup::Help { scroll: 0 }),
        "quit" | "q" => {
            quit(state, fx);
        }
        "" => {}
        // Every bindable command of the table runs by its name too, so the
        // palette, the keys and the help agree.
        name if palette_command(name).is_some() => {
            let info = palette_command(name).expect("checked");
            if info.acts && !state.may_act() {
                return err(state, "read-only: this command acts".to_string());
            }
            run(state, info.command, fx);
        }
        other => {
            let other = other.to_string();
            err(
                state,
                format!(
                    "unknown command \"{other}\"; expected one of: {} (or a key command's name, e.g. reload)",
                    LINE_COMMANDS.join(", ")
                ),
            )
        }
    }
}

pub(crate) fn codes() -> String {
    ReasonCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn split_word(s: &str) -> (&str, Option<String>) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => {
            let rest = rest.trim();
            (w, (!rest.is_empty()).then(|| rest.to_string()))
        }
        None => (s, None),
    }
}

/// `:accept` / `:withdraw`: the marks if any, else the row under the cursor.
pub(crate) fn act(state: &mut State, cmd: Command, fx: &mut Vec<Effect>, run: Dispatch) {
    if state.marks.is_empty() {
        run(state, cmd, fx);
    } else {
        batch_command(state, cmd, fx);
    }
}

/// `:reject` / `:forward` with their arguments given.
pub(crate) fn act_with(state: &mut State, template: BatchAction, fx: &mut Vec<Effect>) {
    if !state.marks.is_empty() {
        plan(state, template, fx);
        return;
    }
    let kind = template.kind();
    match check(state, kind) {
        Ok((id, version, company)) => {
            if let BatchAction::Forward(f) = &template
                && state
                    .entry(&id)
                    .is_some_and(|e| e.referral.chain.iter().any(|c| *c == f.to_partner))
            {
                say(
                    state,
                    Level::Error,
                    format!(
                        ":forward: {company} already passed through {}",
                        f.to_partner
                    ),
                );
                return;
            }
            let req = item_action(&template, version, kind);
            send(state, id, req, fx);
            say(
                state,
                Level::Info,
                format!("{} {company}…", sending_word(kind)),
            );
        }
        Err(why) => say(state, Level::Error, why),
    }
}
