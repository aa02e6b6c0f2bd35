//! The new-lead form's model and its checks: the fields `leadx send`
//! takes, each a `tui-input` line, checked field by field with the
//! server's own rules ([`crate::domain::validate`], [`crate::money`]) so
//! every mistake shows at once, next to its field.

use tui_input::Input;

use crate::domain::DomainError;
use crate::domain::validate::{
    check_cents, check_commission, check_currency, check_expires, check_line, check_text,
    email_problem, required_line, validate_lead,
};
use crate::wire::{CreateReferral, LeadInput, MAX_LINE_CHARS, MAX_TEXT_CHARS, Partner};

/// One field of the form, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its label on screen.
    pub label: &'static str,
    /// The request's path the server names in a 422 (`lead.company`).
    pub path: &'static str,
    /// Required (marked `*`).
    pub required: bool,
    /// Most characters typed.
    pub limit: usize,
}

const fn field(label: &'static str, path: &'static str, required: bool, limit: usize) -> Field {
    Field {
        label,
        path,
        required,
        limit,
    }
}

/// The fields, in the order Tab walks them (`leadx send`'s flags).
pub const FIELDS: &[Field] = &[
    field("To", "to_partner", true, MAX_LINE_CHARS),
    field("Company", "lead.company", true, MAX_LINE_CHARS),
    field("Category", "lead.category", true, MAX_LINE_CHARS),
    field("Domain", "lead.domain", false, MAX_LINE_CHARS),
    field("Contact", "lead.contact_name", false, MAX_LINE_CHARS),
    field("Email", "lead.contact_email", false, MAX_LINE_CHARS),
    field("Phone", "lead.contact_phone", false, MAX_LINE_CHARS),
    field("Summary", "lead.summary", false, MAX_TEXT_CHARS),
    field("Value", "lead.est_value_cents", false, 40),
    field("Currency", "lead.currency", false, 3),
    field("Region", "lead.region", false, MAX_LINE_CHARS),
    field("Commission %", "commission_pct", false, 3),
    field("Note", "note", false, MAX_TEXT_CHARS),
    field("Expires (h)", "expires_in_hours", false, 3),
];

/// Index of the `To` field (the partner picker).
pub const TO: usize = 0;

/// Whether field `i` is a long text (summary, note): `Ctrl-E` edits it in
/// `$EDITOR`, as any note.
pub fn is_long(i: usize) -> bool {
    FIELDS.get(i).is_some_and(|f| f.limit == MAX_TEXT_CHARS)
}

/// The form: what was typed, where the cursor is, what is wrong.
#[derive(Debug, Clone, Default)]
pub struct ComposeForm {
    /// One input per [`FIELDS`] row.
    pub inputs: Vec<Input>,
    /// The focused field.
    pub focus: usize,
    /// Per field, what is wrong with it (client checks or the server's 422).
    pub errors: Vec<Option<String>>,
    /// A refusal not tied to a field (403, a duplicate, the network).
    pub error: Option<String>,
    /// In the picker: the prefix typed before cycling, and the position.
    pub cycle: Option<(String, usize)>,
    /// Sent, waiting for the answer (keys other than Esc wait).
    pub sending: bool,
    /// Esc was pressed on a draft: a second Esc discards it, any other
    /// key goes on editing (one stray Esc loses nothing).
    pub discard_armed: bool,
}

impl ComposeForm {
    /// An empty form on the `To` field.
    pub fn new() -> Self {
        ComposeForm {
            inputs: vec![Input::default(); FIELDS.len()],
            focus: TO,
            errors: vec![None; FIELDS.len()],
            error: None,
            cycle: None,
            sending: false,
            discard_armed: false,
        }
    }

    /// Whether anything was typed.
    pub fn is_blank(&self) -> bool {
        self.inputs.iter().all(|i| i.value().trim().is_empty())
    }

    fn text(&self, i: usize) -> Option<String> {
        let v = self.inputs[i].value().trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Puts an answer on the field the server named (`lead.company`), or
    /// on the form when it names none this form has; focuses that field.
    pub fn blame(&mut self, path: Option<&str>, message: String) {
        match path.and_then(|p| FIELDS.iter().position(|f| f.path == p)) {
            Some(i) => {
                self.errors[i] = Some(message);
                self.focus = i;
            }
            None => self.error = Some(message),
        }
    }
}

/// Partners the picker offers: every one but my own.
pub fn candidates<'a>(partners: &'a [Partner], me: Option<&str>, prefix: &str) -> Vec<&'a str> {
    let prefix = prefix.trim().to_lowercase();
    partners
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| Some(*id) != me && id.starts_with(&prefix))
        .collect()
}

fn message(e: DomainError) -> String {
    match e {
        DomainError::Invalid { message, .. } => message,
        other => format!("{other:?}"),
    }
}

fn number(text: &str, what: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .map_err(|_| format!("{what} must be a whole number, not {text:?}"))
}

/// Checks every field as the server would and builds the request, or
/// the errors per field (index into [`FIELDS`]).
pub fn check(
    form: &ComposeForm,
    partners: &[Partner],
    me: Option<&str>,
) -> Result<CreateReferral, Vec<(usize, String)>> {
    let mut errs: Vec<(usize, String)> = Vec::new();
    let at = |path: &str| FIELDS.iter().position(|f| f.path == path).unwrap_or(TO);
    let mut keep = |i: usize, r: Result<(), String>| {
        if let Err(e) = r {
            errs.push((i, e));
        }
    };
    let to = form.text(TO).unwrap_or_default();
    keep(
        TO,
        if to.is_empty() {
            Err("choose a partner (type a prefix, Up/Down cycles)".to_string())
        } else if Some(to.as_str()) == me {
            Err("you cannot send a referral to yourself".to_string())
        } else if !partners.is_empty() && !partners.iter().any(|p| p.id == to) {
            let hint = crate::suggest::did_you_mean(&to, candidates(partners, me, ""));
            Err(format!("no partner {to:?} on the exchange{hint}"))
        } else {
            Ok(())
        },
    );
    let line = |i: usize| form.text(i);
    let lead = LeadInput {
        company: line(1),
        category: line(2),
        domain: line(3),
        contact_name: line(4),
        contact_email: line(5),
        contact_phone: line(6),
        summary: line(7),
        est_value_cents: None,
        currency: line(9).map(|c| c.to_ascii_uppercase()),
        region: line(10),
    };
    for (i, f) in FIELDS.iter().enumerate() {
        let v = line(i);
        let r = match f.path {
            "lead.company" | "lead.category" => required_line(f.path, v.as_deref())
                .map(|_| ())
                .map_err(message),
            "lead.summary" | "note" => check_text(f.path, v.as_deref()).map_err(message),
            "lead.contact_email" => {
                check_line(f.path, v.as_deref())
                    .map_err(message)
                    .and_then(|()| match v.as_deref().and_then(email_problem) {
                        Some(why) => Err(format!("not an email address ({why})")),
                        None => Ok(()),
                    })
            }
            "lead.currency" => check_currency(f.path, lead.currency.as_deref())
                .map(|_| ())
                .map_err(message),
            "lead.domain" | "lead.contact_name" | "lead.contact_phone" | "lead.region" => {
                check_line(f.path, v.as_deref()).map_err(message)
            }
            _ => Ok(()),
        };
        keep(i, r);
    }
    let value = match line(8).map(|t| crate::money::parse_amount(&t)) {
        None => None,
        Some(Ok(cents)) => {
            keep(8, check_cents(FIELDS[8].path, Some(cents)).map_err(message));
            Some(cents)
        }
        Some(Err(e)) => {
            keep(8, Err(e));
            None
        }
    };
    let commission = match line(11).map(|t| number(&t, "the commission")) {
        None => None,
        Some(r) => {
            let r = r.and_then(|n| {
                check_commission("commission", Some(n))
                    .map(|()| n)
                    .map_err(message)
            });
            keep(11, r.clone().map(|_| ()));
            r.ok()
        }
    };
    let hours = match line(13).map(|t| number(&t, "the hours")) {
        None => None,
        Some(r) => {
            let r = r.and_then(|n| check_expires("expires (hours)", Some(n)).map_err(message));
            keep(13, r.clone().map(|_| ()));
            r.ok()
        }
    };
    let request = CreateReferral {
        to_partner: to,
        lead: LeadInput {
            est_value_cents: value,
            ..lead
        },
        commission_pct: commission,
        note: line(12),
        expires_in_hours: hours,
    };
    // The whole lead once more through the server's own check: a rule
    // added there is never missed here.
    if errs.is_empty()
        && let Err(DomainError::Invalid { field, message }) = validate_lead(&request.lead)
    {
        errs.push((at(field.as_deref().unwrap_or("")), message));
    }
    if errs.is_empty() {
        Ok(request)
    } else {
        Err(errs)
    }
}
