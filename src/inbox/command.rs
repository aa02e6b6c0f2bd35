//! The one table of bindable commands.
//!
//! Key handling ([`super::keymap`]), the `?` help overlay and the hint bar
//! are all generated from [`COMMANDS`], so they never disagree. Each entry
//! names its config key (`[keys] NAME = [...]`), its default keys, a short
//! hint label, a help text, and the contexts where it applies.

/// Where the user is: which keys mean what depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// The referral tables.
    List,
    /// Typing the pane filter (`/`): printable keys are text.
    Filter,
    /// A popup choosing from a short list (reject reason, won/lost).
    Choice,
    /// The forward popup's partner picker: printable keys narrow the list.
    Picker,
    /// A one-line note or value in a popup: printable keys are text.
    Note,
    /// The `?` overlay.
    Help,
    /// The quit confirmation.
    Confirm,
    /// The `:` command line: printable keys are text.
    CommandLine,
    /// A batch's confirmation or results.
    Batch,
}

impl Context {
    /// Whether printable keys are typed into a text input here.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Self::Filter | Self::Picker | Self::Note | Self::CommandLine
        )
    }
}

/// A bindable command. Popup-internal keys (`Enter` confirms, `Esc` backs
/// out, typing) are not commands: they are fixed and listed in the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    PaneIncoming,
    PaneOutgoing,
    ToggleDetail,
    Accept,
    Reject,
    Forward,
    Withdraw,
    Close,
    Filter,
    Reload,
    Redraw,
    Help,
    Quit,
    Command,
    ToggleMark,
    MarkRange,
    MarkAll,
    InvertMarks,
    Undo,
    SortNext,
    SortReverse,
    NextView,
    // Issue 9, items 18-24: the terminal and the world outside it.
    Suspend,
    OpenSite,
    OpenMail,
    EditNote,
    // Copy (issue 9, item 6).
    Yank,
    YankMenu,
    // issue 9, reading at 80x24 (messages, detail scrolling)
    Messages,
    DetailDown,
    DetailUp,
    DetailFull,
    // issue 9, item 21: a new lead from the inbox
    NewLead,
}

/// One row of the command table.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    /// The command.
    pub command: Command,
    /// Its name: the key of `[keys]` in the config.
    pub name: &'static str,
    /// Default keys, in `KeySpec::parse` syntax.
    pub default_keys: &'static [&'static str],
    /// A short label for the hint line (`None`: not shown there).
    pub hint: Option<&'static str>,
    /// One line for the help overlay.
    pub help: &'static str,
    /// Where it applies.
    pub contexts: &'static [Context],
    /// Whether it changes data on the server (hidden from hints when read-only).
    pub acts: bool,
}

use Context::{Choice, CommandLine, Filter, Help, List, Note, Picker};

const MOVE: &[Context] = &[List, Choice, Picker, Help];
const LIST: &[Context] = &[List];
const QUIT: &[Context] = &[List, Filter, Picker, Note, Help, CommandLine];
const EVERYWHERE: &[Context] = &[
    List,
    Filter,
    Choice,
    Picker,
    Note,
    Help,
    Context::Confirm,
    CommandLine,
    Context::Batch,
];

/// Every bindable command, in help order.
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        command: Command::Up,
        name: "up",
        default_keys: &["k", "up"],
        hint: None,
        help: "Move up one row",
        contexts: MOVE,
        acts: false,
    },
    CommandInfo {
        command: Command::Down,
        name: "down",
        default_keys: &["j", "down"],
        hint: None,
        help: "Move down one row",
        contexts: MOVE,
        acts: false,
    },
    CommandInfo {
        command: Command::Top,
        name: "top",
        default_keys: &["g", "home"],
        hint: None,
        help: "Go to the first row",
        contexts: &[List, Choice, Help],
        acts: false,
    },
    CommandInfo {
        command: Command::Bottom,
        name: "bottom",
        default_keys: &["G", "end"],
        hint: None,
        help: "Go to the last row",
        contexts: &[List, Choice, Help],
        acts: false,
    },
    CommandInfo {
        command: Command::PageUp,
        name: "page_up",
        default_keys: &["pageup"],
        hint: None,
        help: "Move up one page",
        contexts: MOVE,
        acts: false,
    },
    CommandInfo {
        command: Command::PageDown,
        name: "page_down",
        default_keys: &["pagedown"],
        hint: None,
        help: "Move down one page",
        contexts: MOVE,
        acts: false,
    },
    CommandInfo {
        command: Command::NextPane,
        name: "next_pane",
        default_keys: &["tab"],
        hint: Some("pane"),
        help: "Switch to the next pane",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::PrevPane,
        name: "prev_pane",
        default_keys: &["shift-tab"],
        hint: None,
        help: "Switch to the previous pane",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::PaneIncoming,
        name: "pane_incoming",
        default_keys: &["1"],
        hint: None,
        help: "Show the Incoming pane",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::PaneOutgoing,
        name: "pane_outgoing",
        default_keys: &["2"],
        hint: None,
        help: "Show the Outgoing pane",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::ToggleDetail,
        name: "toggle_detail",
        default_keys: &["enter"],
        hint: Some("detail"),
        help: "Show or hide the detail pane",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::Accept,
        name: "accept",
        default_keys: &["a"],
        hint: Some("accept"),
        help: "Accept the pending incoming referral under the cursor",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::Reject,
        name: "reject",
        default_keys: &["r"],
        hint: Some("reject"),
        help: "Reject it: pick a reason, add a note",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::Forward,
        name: "forward",
        default_keys: &["f"],
        hint: Some("forward"),
        help: "Forward it to another partner",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::Withdraw,
        name: "withdraw",
        default_keys: &["w"],
        hint: Some("withdraw"),
        help: "Withdraw the pending outgoing referral under the cursor",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::Close,
        name: "close",
        default_keys: &["c"],
        hint: Some("close"),
        help: "Close an accepted referral as won or lost",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::Filter,
        name: "filter",
        default_keys: &["/"],
        hint: Some("filter"),
        help: "Filter the pane as you type (Enter keeps, Esc clears)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::Reload,
        name: "reload",
        default_keys: &["R"],
        hint: None,
        help: "List everything again from the server",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::Redraw,
        name: "redraw",
        default_keys: &["ctrl-l"],
        hint: Some("redraw"),
        help: "Clear the screen and draw it all again (a damaged screen)",
        contexts: EVERYWHERE,
        acts: false,
    },
    CommandInfo {
        command: Command::Help,
        name: "help",
        default_keys: &["?"],
        hint: Some("help"),
        help: "Show or hide this help",
        contexts: &[List, Help],
        acts: false,
    },
    CommandInfo {
        command: Command::Quit,
        name: "quit",
        default_keys: &["q", "ctrl-c"],
        hint: Some("quit"),
        help: "Quit (asks first when actions are unsent)",
        contexts: QUIT,
        acts: false,
    },
    CommandInfo {
        command: Command::Command,
        name: "command",
        default_keys: &[":"],
        hint: None,
        help: "Open the : command line (Tab completes)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::ToggleMark,
        name: "toggle_mark",
        default_keys: &["space"],
        hint: None,
        help: "Mark or unmark the row and move down",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::MarkRange,
        name: "mark_range",
        default_keys: &["v"],
        hint: None,
        help: "Start (or end) a marked range that follows the cursor",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::MarkAll,
        name: "mark_all",
        default_keys: &["*"],
        hint: None,
        help: "Mark every row the filter shows",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::InvertMarks,
        name: "invert_marks",
        default_keys: &["!"],
        hint: None,
        help: "Invert the marks among the rows the filter shows",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::Undo,
        name: "undo",
        default_keys: &["u"],
        hint: None,
        help: "Cancel a batch during its undo window (nothing is sent)",
        contexts: LIST,
        acts: true,
    },
    CommandInfo {
        command: Command::SortNext,
        name: "sort_next",
        default_keys: &["s"],
        hint: None,
        help: "Sort by the next column",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::SortReverse,
        name: "sort_reverse",
        default_keys: &["S"],
        hint: None,
        help: "Reverse the sort",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::NextView,
        name: "next_view",
        default_keys: &["]"],
        hint: None,
        help: "Show the next saved view ([views.NAME] in the config)",
        contexts: LIST,
        acts: false,
    },
    // Issue 9, items 18-24: the terminal and the world outside it.
    CommandInfo {
        command: Command::Suspend,
        name: "suspend",
        default_keys: &["ctrl-z"],
        hint: None,
        help: "Suspend to the shell (`fg` comes back)",
        contexts: EVERYWHERE,
        acts: false,
    },
    CommandInfo {
        command: Command::OpenSite,
        name: "open_site",
        default_keys: &["o"],
        hint: None,
        help: "Open the lead's domain in the browser ($BROWSER)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::OpenMail,
        name: "open_mail",
        default_keys: &["O"],
        hint: None,
        help: "Write to the contact: open a mailto: link",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::EditNote,
        name: "edit_note",
        default_keys: &["ctrl-e"],
        hint: None,
        help: "In a note: write it in $VISUAL / $EDITOR (vi)",
        contexts: &[Note],
        acts: false,
    },
    // Copy (issue 9, item 6): OSC 52, see docs/INBOX.md.
    CommandInfo {
        command: Command::Yank,
        name: "yank",
        default_keys: &["y"],
        hint: None,
        help: "Copy the referral's id to the clipboard (OSC 52)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::YankMenu,
        name: "yank_menu",
        default_keys: &["Y"],
        hint: None,
        help: "Copy a menu pick: id, email, phone, domain, all as text",
        contexts: LIST,
        acts: false,
    },
    // issue 9, reading at 80x24 (messages, detail scrolling)
    CommandInfo {
        command: Command::Messages,
        name: "messages",
        default_keys: &["M"],
        hint: None,
        help: "Every message of this session, whole, newest first",
        contexts: &[List, Help],
        acts: false,
    },
    CommandInfo {
        command: Command::DetailDown,
        name: "detail_down",
        default_keys: &["J", "ctrl-d"],
        hint: None,
        help: "Scroll the detail down (the whole text, notes uncut)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::DetailUp,
        name: "detail_up",
        default_keys: &["K", "ctrl-u"],
        hint: None,
        help: "Scroll the detail up (at the top: the overview again)",
        contexts: LIST,
        acts: false,
    },
    CommandInfo {
        command: Command::DetailFull,
        name: "detail_full",
        default_keys: &["z"],
        hint: None,
        help: "Show the detail over the whole screen, or back",
        contexts: LIST,
        acts: false,
    },
    // issue 9, item 21: a new lead from the inbox
    CommandInfo {
        command: Command::NewLead,
        name: "new_lead",
        default_keys: &["n"],
        hint: None,
        help: "Write a new lead and send it to a partner",
        contexts: LIST,
        acts: true,
    },
];

impl Command {
    /// Its row of [`COMMANDS`].
    pub fn info(self) -> &'static CommandInfo {
        COMMANDS
            .iter()
            .find(|c| c.command == self)
            .expect("every command has a row in COMMANDS")
    }

    /// Its config name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The command a config name stands for.
    pub fn from_name(name: &str) -> Option<Command> {
        COMMANDS.iter().find(|c| c.name == name).map(|c| c.command)
    }

    /// Whether it applies in `ctx`.
    pub fn applies_in(self, ctx: Context) -> bool {
        self.info().contexts.contains(&ctx)
    }
}

/// Fixed keys inside popups and the filter line, for the help overlay.
pub const FIXED_KEYS: &[(&str, &str)] = &[
    ("Enter", "In a popup: pick / send; in the filter: keep it"),
    (
        "Esc",
        "Back out of a popup; clear the marks, then the filter",
    ),
    ("Tab", "On the : line: complete the word"),
    ("Up/Down", "On the : line: earlier / later commands"),
    ("1-5", "In the reject popup: pick a reason by number"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_one_row_and_a_unique_name() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
        for c in COMMANDS {
            assert_eq!(c.command.info().name, c.name);
            assert_eq!(Command::from_name(c.name), Some(c.command));
            assert!(!c.contexts.is_empty(), "{} applies nowhere", c.name);
        }
        assert_eq!(Command::from_name("nope"), None);
    }

    /// `config` checks `[keys]` against its own list of command names
    /// (it may not import the inbox): the two lists must name the same
    /// commands, or a key in the config is refused or ignored.
    #[test]
    fn config_knows_every_command_of_the_table() {
        let mut table: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        let mut config: Vec<&str> = crate::config::COMMANDS.to_vec();
        table.sort_unstable();
        config.sort_unstable();
        assert_eq!(config, table);
    }

    #[test]
    fn config_names_are_the_agreed_ones() {
        let agreed = "up down top bottom page_up page_down next_pane prev_pane pane_incoming pane_outgoing toggle_detail accept reject forward withdraw close filter reload redraw help quit command toggle_mark mark_range mark_all invert_marks undo sort_next sort_reverse next_view suspend open_site open_mail edit_note yank yank_menu messages detail_down detail_up detail_full new_lead";
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names.join(" "), agreed);
    }
}
