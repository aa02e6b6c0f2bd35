//! "Did you mean ...?": the closest known name to a typed one, for the
//! query language's fields and the CLI's partner ids. Pure; below the
//! query, the CLI and the inbox.

/// The closest of `candidates` to `input` (case-insensitive edit
/// distance), if close enough to be a typo: at most a third of the typed
/// length, plus one.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (edit_distance(input, c), c))
        .filter(|(d, c)| *d <= limit && *d > 0 || (*d == 0 && *c != input))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean 'x'?)`, or nothing.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates).map_or_else(String::new, |c| format!(" (did you mean '{c}'?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_only() {
        assert_eq!(closest("deafult", ["default", "light"]), Some("default"));
        assert_eq!(closest("zzzzzz", ["default", "light"]), None);
        let fields = ["status", "category", "company", "region"];
        assert_eq!(closest("catgory", fields), Some("category"));
        assert_eq!(closest("Category", fields), Some("category"));
        assert_eq!(closest("xyzzy", fields), None);
        assert_eq!(closest("status", fields), None, "an exact name is no typo");
        assert_eq!(
            did_you_mean("acme-wbe", ["acme-web", "harbor-host"]),
            " (did you mean 'acme-web'?)"
        );
        assert_eq!(did_you_mean("zzz", ["acme-web"]), "");
    }
}
