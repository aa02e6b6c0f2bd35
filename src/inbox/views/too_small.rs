//! Below the minimum size: one message, nothing else.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::put;
use crate::inbox::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::theme::Theme;

/// "terminal too small (need 60x15)", centred as well as it fits.
pub fn render(area: Rect, theme: &Theme, buf: &mut Buffer) {
    buf.set_style(area, theme.text);
    if area.width == 0 || area.height == 0 {
        return;
    }
    let text = format!("terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT})");
    let now = format!("now {}x{}", area.width, area.height);
    let y = area.y + area.height.saturating_sub(2) / 2;
    for (dy, line, style) in [(0, &text, theme.error), (1, &now, theme.dim)] {
        if y + dy >= area.bottom() {
            break;
        }
        let w = (line.chars().count() as u16).min(area.width);
        let x = area.x + (area.width - w) / 2;
        put(buf, x, y + dy, w, line, style);
    }
}
