use super::*;

#[test]
fn setup_errors_name_the_file_and_key() {
    let e = SetupError {
        file: Some(PathBuf::from("/home/u/.config/leadx/config.toml")),
        key: "keys.accept".into(),
        message: "bad key \"ctrl-\"".into(),
    };
    assert_eq!(
        e.to_string(),
        "/home/u/.config/leadx/config.toml: keys.accept: bad key \"ctrl-\""
    );
    let any: anyhow::Error = e.clone().into();
    assert_eq!(any.downcast_ref::<SetupError>(), Some(&e));
}

#[test]
fn history_keeps_the_last_lines_and_trims_a_long_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leadx/history");
    assert!(load_history(&p).is_empty(), "no file: no history");
    append_history(&p, "sort value").unwrap();
    append_history(&p, "select status:pending\x1b[2J").unwrap();
    let h = load_history(&p);
    assert_eq!(h.len(), 2);
    assert_eq!(h[0], "sort value");
    assert!(
        !h[1].contains('\x1b'),
        "loaded lines are sanitized: {:?}",
        h[1]
    );
    for i in 0..(3 * HISTORY_MAX) {
        append_history(&p, &format!("filter n{i}")).unwrap();
    }
    let h = load_history(&p);
    assert_eq!(h.len(), HISTORY_MAX);
    assert_eq!(
        h.last().unwrap(),
        &format!("filter n{}", 3 * HISTORY_MAX - 1)
    );
    let on_disk = std::fs::read_to_string(&p).unwrap();
    assert_eq!(on_disk.lines().count(), HISTORY_MAX, "the file was trimmed");
}

#[test]
fn wakeups_are_just_after_the_second() {
    let wall = crate::wire::parse_timestamp("2026-11-26T09:14:03Z").unwrap()
        + chrono::Duration::milliseconds(300);
    let mono = Instant::now();
    let at = |t: &str| instant_at(crate::wire::parse_timestamp(t).unwrap(), wall, mono);
    // 09:14:05 is 1.7 s after 09:14:03.3: wake 5 ms after it.
    assert_eq!(
        at("2026-11-26T09:14:05Z") - mono,
        Duration::from_millis(1705)
    );
    assert_eq!(
        at("2026-11-26T09:14:04Z") - mono,
        Duration::from_millis(705)
    );
    // A time already past (or this very second) wakes at once, 5 ms on.
    assert_eq!(at("2026-11-26T09:13:58Z") - mono, Duration::from_millis(5));
    assert_eq!(at("2026-11-26T09:14:03Z") - mono, Duration::from_millis(5));
}
