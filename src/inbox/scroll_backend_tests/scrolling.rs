//! Rows that move are scrolled instead of redrawn: inserts, deletes and
//! shifts in a band or a sub-band, side by side panes (scrolled only when
//! that pays), resizes and clears, the cursor, and ratatui's `Terminal`.

use super::*;

#[test]
fn a_row_inserted_at_the_top_is_scrolled_in_for_far_fewer_bytes() {
    let (w, h) = (200, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(before.iter().take(15).cloned());
    let a = table(w, h, &before, "live · last event 10:42:06");
    let b = table(w, h, &after, "live · last event 10:42:07 · 1 new");

    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let scrolled = rig.show(&b);
    let plain = plain_bytes(&a, &b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    // The plain diff rewrites ~15 rows of ~120 characters; the scroll and
    // one new row cost a fraction of that.
    assert!(
        scrolled * 5 < plain && scrolled < 500,
        "scrolled {scrolled} B, plain {plain} B"
    );
}

#[test]
fn backends_of_different_sizes_drawing_in_turn_on_one_thread_keep_their_own_screens() {
    // They share the thread's scratch frame (as an SSH server's sessions
    // do): each must still draw exactly its own frames, moves included.
    let mut big = Rig::new(120, 20);
    let mut small = Rig::new(60, 10);
    let rows: Vec<String> = (1..=30).map(lead).collect();
    for k in 0..6 {
        let b = table(120, 20, &rows[k..], &format!("big {k}"));
        let s = table(60, 10, &rows[k * 2..], &format!("small {k}"));
        big.show(&b);
        small.show(&s);
    }
    assert!(big.backend.stats().scrolled > 0 && small.backend.stats().scrolled > 0);
}

#[test]
fn the_band_found_for_an_insert_is_the_table() {
    let (w, h) = (120, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(before.iter().take(15).cloned());
    let a = table(w, h, &before, "live");
    let b = table(w, h, &after, "live");
    let (_, shift) = plan(&a, &b).expect("plan");
    // Rows 2..=17 hold the table; the last row pushed out is not needed.
    let s = shift.expect("a shift");
    assert_eq!(s.by, 1);
    assert_eq!(s.top, 2);
    assert!(s.bottom == 17 || s.bottom == 18, "{s:?}");
}

#[test]
fn a_deleted_row_is_scrolled_out() {
    let (w, h) = (160, 20);
    let before: Vec<String> = (1..=16).map(lead).collect();
    let mut after = before.clone();
    after.remove(4);
    let a = table(w, h, &before, "live");
    let b = table(w, h, &after, "live · accepted");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let bytes = rig.show(&b);
    let (_, shift) = plan(&a, &b).expect("plan");
    let s = shift.expect("a shift");
    assert_eq!((s.by, s.top), (-1, 6), "{s:?}");
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert!(bytes * 4 < plain_bytes(&a, &b), "{bytes} B");
}

#[test]
fn a_shift_in_a_sub_band_leaves_the_rest_in_place() {
    // Rows 5..=12 move down by two; everything above and below stays.
    let (w, h) = (100, 20);
    let rows: Vec<String> = (1..=17).map(lead).collect();
    let mut moved = rows.clone();
    moved.insert(3, lead(200));
    moved.insert(3, lead(201));
    moved.truncate(11);
    moved.extend(rows[11..].iter().cloned());
    let a = table(w, h, &rows, "live");
    let b = table(w, h, &moved, "live");
    let (_, shift) = plan(&a, &b).expect("plan");
    let s = shift.expect("a shift");
    assert_eq!((s.by, s.top, s.bottom), (2, 5, 12), "{s:?}");
    let mut rig = Rig::new(w, h);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert!(bytes * 2 < plain_bytes(&a, &b), "{bytes} B");
}

/// Side by side: a list on the left and `right(y)` on the right half.
fn side_by_side(rows: &[String], right: impl Fn(u16) -> String) -> Buffer {
    let (w, h) = (200, 30);
    let mut b = Buffer::empty(Rect::new(0, 0, w, h));
    for y in 0..h {
        if let Some(r) = rows.get(y as usize) {
            b.set_stringn(0, y, r, 99, row_style(r));
        }
        b.set_string(100, y, right(y), Style::default().fg(Color::Indexed(250)));
    }
    b
}

#[test]
fn side_by_side_with_a_dense_right_pane_is_not_scrolled_when_that_costs_more() {
    let rows: Vec<String> = (1..=20).map(|n| format!("{n:03} lead {n}")).collect();
    let mut after = vec!["000 the new lead".to_string()];
    after.extend(rows.iter().take(19).cloned());
    // The detail pane: long text, different in every column from one line
    // to the next, which stays put.
    let detail = |y: u16| {
        (0..95u16)
            .map(|i| char::from(b'a' + ((i * 7 + y * 13) % 26) as u8))
            .collect::<String>()
    };
    let a = side_by_side(&rows, detail);
    let b = side_by_side(&after, detail);
    let (_, shift) = plan(&a, &b).expect("plan");
    assert_eq!(shift, None, "scrolling would redraw the whole right pane");
    let mut rig = Rig::new(200, 30);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert!(bytes <= plain_bytes(&a, &b));
    assert_eq!(rig.backend.stats().scrolled, 0);
}

#[test]
fn side_by_side_with_a_sparse_right_pane_is_scrolled_when_that_pays() {
    let rows: Vec<String> = (1..=20).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(19).cloned());
    // A detail pane with a few short lines near the top only.
    let detail = |y: u16| {
        if y < 3 {
            format!("field {y}")
        } else {
            String::new()
        }
    };
    let a = side_by_side(&rows, detail);
    let b = side_by_side(&after, detail);
    let mut rig = Rig::new(200, 30);
    rig.show(&a);
    let bytes = rig.show(&b);
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert!(bytes * 3 < plain_bytes(&a, &b), "{bytes} B");
}

#[test]
fn a_resize_and_a_clear_reset_the_model() {
    let rows: Vec<String> = (1..=10).map(lead).collect();
    let mut after = vec![lead(50)];
    after.extend(rows.iter().cloned());
    let mut rig = Rig::new(80, 14);
    rig.show(&table(80, 14, &rows, "live"));
    // Larger, then a shifted frame at the new size.
    rig.show(&table(100, 18, &rows, "live"));
    rig.show(&table(100, 18, &after, "live"));
    assert_eq!(rig.backend.stats().scrolled, 1);
    // Smaller.
    rig.show(&table(70, 15, &rows, "live"));

    // A full clear: the terminal is blank and so is the model.
    rig.backend.clear().expect("clear");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    rig.prev = Buffer::empty(rig.prev.area);
    assert_screen(&rig.parser, &rig.prev);
    rig.show(&table(70, 15, &after, "live"));
}

#[test]
fn the_cursor_is_put_back_after_a_scroll_when_shown() {
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(15).cloned());
    let a = table(200, 20, &rows, "filter: ");
    let b = table(200, 20, &after, "filter: ");
    let mut rig = Rig::new(200, 20);
    rig.show(&a);
    rig.backend.show_cursor().expect("show");
    rig.backend.set_cursor_position((8, 19)).expect("cursor");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    // The diff is only the moved rows' new row: draw it and look where
    // the cursor ended.
    rig.backend.draw(a.diff_iter(&b)).expect("draw");
    let bytes = rig.out.take();
    rig.parser.process(&bytes);
    assert_eq!(rig.backend.stats().scrolled, 1);
    assert_screen(&rig.parser, &b);
    assert_eq!(rig.parser.screen().cursor_position(), (19, 8));
}

#[test]
fn through_ratatui_terminal_a_new_top_row_is_scrolled() {
    let out = Shared::default();
    let backend = ScrollBackend::with_size(out.clone(), Size::new(120, 20));
    let mut term = Terminal::new(backend).expect("terminal");
    let mut parser = vt100::Parser::new(20, 120, 0);
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let mut after = vec![lead(99)];
    after.extend(rows.iter().take(15).cloned());
    let mut sizes = Vec::new();
    for frame in [
        table(120, 20, &rows, "live"),
        table(120, 20, &after, "live · 1 new"),
    ] {
        term.draw(|f| f.buffer_mut().clone_from(&frame))
            .expect("draw");
        let bytes = out.take();
        sizes.push(bytes.len());
        parser.process(&bytes);
        assert_screen(&parser, &frame);
    }
    assert_eq!(term.backend().stats().scrolled, 1);
    assert!(sizes[1] < 400, "{sizes:?}");
}

#[test]
fn no_candidates_when_nothing_moved() {
    let rows: Vec<String> = (1..=16).map(lead).collect();
    let a = table(120, 20, &rows, "live");
    let b = table(120, 20, &rows, "live · 10:42:07");
    assert!(candidates(&a, &b).is_empty());
    assert!(candidates(&a, &a).is_empty());
}

#[test]
fn shift_apply_matches_the_terminal_for_both_directions() {
    let rows: Vec<String> = (1..=8).map(|n| format!("row {n}")).collect();
    let a = table(20, 12, &rows, "s");
    for shift in [
        Shift {
            top: 2,
            bottom: 9,
            by: 3,
        },
        Shift {
            top: 0,
            bottom: 11,
            by: -2,
        },
        Shift {
            top: 4,
            bottom: 5,
            by: 1,
        },
    ] {
        let mut parser = vt100::Parser::new(12, 20, 0);
        let mut bytes = Vec::new();
        CrosstermBackend::new(&mut bytes)
            .draw(Buffer::empty(a.area).diff_iter(&a))
            .expect("encode");
        shift.encode(&mut bytes);
        parser.process(&bytes);
        let mut moved = a.clone();
        shift.apply(&mut moved);
        assert_screen(&parser, &moved);
    }
}
