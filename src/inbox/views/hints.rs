//! The hint line, generated from the keymap for the current context.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::put_run;
use crate::inbox::command::{Command, Context};
use crate::inbox::state::{CloseStep, Pane, Popup, State};
use crate::theme::Theme;

/// The `(keys, label)` pairs shown for the current context.
pub fn hints(state: &State) -> Vec<(String, &'static str)> {
    let ctx = state.context();
    // Only the actions the protocol allows in the active pane: the
    // recipient accepts, rejects, forwards and closes; the sender withdraws.
    let incoming = state.active == Pane::Incoming;
    let mut out = state.keymap.hints_where(ctx, state.may_act(), |c| match c {
        Command::Accept | Command::Reject | Command::Forward | Command::Close => incoming,
        Command::Withdraw => !incoming,
        // It works everywhere; the list's hint line says so once.
        Command::Redraw => ctx == Context::List,
        _ => true,
    });
    let closing = |step| matches!(&state.popup, Some(Popup::Close(p)) if p.step == step);
    let fixed: &[(&str, &'static str)] = match ctx {
        Context::List => &[],
        Context::Filter => &[("Enter", "keep filter"), ("Esc", "clear")],
        // Won or lost: no numbered reasons here.
        Context::Choice if closing(CloseStep::Choose) => {
            &[("↑/↓", "move"), ("Enter", "pick"), ("Esc", "cancel")]
        }
        Context::Choice => &[("Enter", "pick"), ("1-5", "reason"), ("Esc", "cancel")],
        Context::Picker => &[("type", "narrow"), ("Enter", "pick"), ("Esc", "cancel")],
        Context::Note if closing(CloseStep::Value) => &[("Enter", "next"), ("Esc", "back")],
        Context::Note => &[("Enter", "send"), ("Esc", "back")],
        Context::Help => &[("Esc/q", "close"), ("↑/↓", "scroll")],
        Context::Confirm => &[("y", "quit"), ("n", "stay")],
        Context::CommandLine => &[
            ("Enter", "run"),
            ("Tab", "complete"),
            ("↑/↓", "history"),
            ("Esc", "cancel"),
        ],
        Context::Batch => {
            if matches!(state.popup, Some(Popup::BatchConfirm)) {
                &[("y/Enter", "go"), ("n/Esc", "cancel")]
            } else {
                &[("Esc", "close"), ("↑/↓", "scroll")]
            }
        }
    };
    let fixed = fixed.iter().map(|(k, l)| (k.to_string(), *l));
    if ctx == Context::List {
        // During a batch's undo window the key that cancels it comes first.
        if let Some(batch) = &state.batch
            && matches!(
                batch.phase,
                crate::inbox::update::batch::BatchPhase::Undo { .. }
            )
            && let Some(keys) = state.keymap.label_of(crate::inbox::command::Command::Undo)
        {
            out.insert(0, (keys, "undo"));
        }
        out
    } else if ctx == Context::Help {
        fixed.collect()
    } else {
        let mut v: Vec<_> = fixed.collect();
        v.append(&mut out);
        v
    }
}

/// Hints dropped first when the line is too narrow.
const DROP_ORDER: [&str; 7] = [
    "redraw", "pane", "detail", "withdraw", "close", "filter", "forward",
];

/// Draws the hint line.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme.hint_text);
    let max = area.right();
    let mut all = hints(state);
    // Drop the least needed hints whole until the line fits.
    let width = |v: &[(String, &str)]| -> usize {
        1 + v
            .iter()
            .map(|(k, l)| crate::sanitize::width(k) + 1 + l.len() + 2)
            .sum::<usize>()
    };
    for drop in DROP_ORDER {
        if width(&all) <= area.width as usize {
            break;
        }
        all.retain(|(_, l)| *l != drop);
    }
    let mut x = area.x + 1;
    for (keys, label) in all {
        x = put_run(buf, x, area.y, max, &keys, theme.hint_key);
        x = put_run(buf, x, area.y, max, " ", theme.hint_text);
        x = put_run(buf, x, area.y, max, label, theme.hint_text);
        x = put_run(buf, x, area.y, max, "  ", theme.hint_text);
        if x >= max {
            break;
        }
    }
}
