//! The query parser: one pass over the characters, every error with the
//! 0-based character column where it happened.

use super::text::Needle;
use super::{
    Cmp, FIELDS, Kind, ParseError, Query, SortField, SortSpec, Term, TextField, status_bit,
};
use crate::wire::Status;

/// Most digits in one number (keeps the arithmetic in `u128`).
const MAX_DIGITS: usize = 30;

/// Parses a whole query.
pub(super) fn parse(input: &str) -> Result<Query, ParseError> {
    let mut p = Parser {
        s: input.chars().collect(),
        pos: 0,
    };
    let mut q = Query::default();
    loop {
        p.skip_space();
        if p.pos >= p.s.len() {
            return Ok(q);
        }
        p.term(&mut q)?;
    }
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column,
        message: message.into(),
    }
}

fn control_error(column: usize, c: char) -> ParseError {
    err(
        column,
        format!("control character U+{:04X} is not allowed", c as u32),
    )
}

fn statuses() -> String {
    Status::ALL.map(Status::as_str).join(", ")
}

fn sort_fields() -> String {
    SortField::ALL.map(SortField::as_str).join(", ")
}

struct Parser {
    s: Vec<char>,
    pos: usize,
}

/// A decimal number as typed: `mantissa / 10^scale`.
struct Number {
    mantissa: u128,
    scale: u32,
    /// Characters it took.
    len: usize,
    /// Whether it had a decimal point.
    dot: bool,
}

impl Number {
    /// `self * unit`, rounded to the nearest whole (halves up), if it fits.
    fn times(&self, unit: u128) -> Option<i64> {
        let scaled = self.mantissa.checked_mul(unit)?;
        let div = 10u128.checked_pow(self.scale)?;
        let whole = scaled.checked_add(div / 2)? / div;
        i64::try_from(whole).ok()
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn slice(&self, from: usize, to: usize) -> String {
        self.s[from..to].iter().collect()
    }

    /// One term (the parser stands on its first character).
    fn term(&mut self, q: &mut Query) -> Result<(), ParseError> {
        let start = self.pos;
        let first = self.s[start];
        let negated = first == '-' || first == '!';
        if negated {
            self.pos += 1;
            match self.peek() {
                None => return Err(err(start, format!("expected a term after '{first}'"))),
                Some(c) if c.is_whitespace() => {
                    return Err(err(start, format!("expected a term after '{first}'")));
                }
                Some('-' | '!') => {
                    return Err(err(self.pos, "a term can be negated only once"));
                }
                Some(_) => {}
            }
        }
        let body = self.pos;
        if self.s[body] == '"' {
            let text = self.quoted()?;
            if text.is_empty() {
                return Err(err(body, "empty phrase: put some text between the quotes"));
            }
            q.terms.push(Term {
                negated,
                kind: Kind::Any(Needle::new(&text)),
            });
            return Ok(());
        }
        let mut i = body;
        while i < self.s.len() && self.s[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i > body && self.s.get(i) == Some(&':') {
            self.pos = i + 1;
            return self.field(q, negated, start, body);
        }
        let text = self.word()?;
        q.terms.push(Term {
            negated,
            kind: Kind::Any(Needle::new(&text)),
        });
        Ok(())
    }

    /// The characters up to the next space (or the end).
    fn word(&mut self) -> Result<String, ParseError> {
        let from = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                break;
            }
            if c.is_control() {
                return Err(control_error(self.pos, c));
            }
            self.pos += 1;
        }
        Ok(self.slice(from, self.pos))
    }

    /// A `"quoted phrase"` (the parser stands on the opening quote), with
    /// `\"` and `\\` as escapes; it must be followed by a space or the end.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(err(open, "unclosed quote: add a closing '\"'")),
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') if matches!(self.s.get(self.pos + 1), Some('"' | '\\')) => {
                    out.push(self.s[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) if c.is_control() => return Err(control_error(self.pos, c)),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        match self.peek() {
            Some(c) if !c.is_whitespace() => {
                Err(err(self.pos, "expected a space after the closing quote"))
            }
            _ => Ok(out),
        }
    }

    /// `name:value`; the parser stands just after the `:`.
    fn field(
        &mut self,
        q: &mut Query,
        negated: bool,
        start: usize,
        body: usize,
    ) -> Result<(), ParseError> {
        let typed_name = self.slice(body, self.pos - 1);
        let name = typed_name.to_ascii_lowercase();
        let value_col = self.pos;
        let text_field = match name.as_str() {
            "from" => Some(TextField::From),
            "to" => Some(TextField::To),
            "partner" => Some(TextField::Partner),
            "category" => Some(TextField::Category),
            "region" => Some(TextField::Region),
            "company" => Some(TextField::Company),
            _ => None,
        };
        let kind = if let Some(field) = text_field {
            let quoted = self.peek() == Some('"');
            let text = if quoted { self.quoted()? } else { self.word()? };
            if text.is_empty() {
                let what = if quoted {
                    "text between the quotes"
                } else {
                    "a value"
                };
                return Err(err(value_col, format!("expected {what} after '{name}:'")));
            }
            Kind::Text(field, Needle::new(&text))
        } else {
            match name.as_str() {
                "sort" => {
                    if negated {
                        return Err(err(
                            start,
                            "sort cannot be negated: write sort:-FIELD to sort the other way",
                        ));
                    }
                    q.sort = Some(self.sort_value(value_col)?);
                    return Ok(());
                }
                "status" => Kind::Status(self.status_value(value_col)?),
                "value" | "commission" | "age" | "expires" => {
                    self.comparison(&name, body, value_col)?
                }
                _ => {
                    return Err(err(
                        body,
                        format!(
                            "unknown field '{typed_name}'{}: fields are {}; \
                             put text containing ':' in quotes",
                            crate::suggest::did_you_mean(&typed_name, FIELDS.iter().copied()),
                            FIELDS.join(", ")
                        ),
                    ));
                }
            }
        };
        q.terms.push(Term { negated, kind });
        Ok(())
    }

    fn sort_value(&mut self, value_col: usize) -> Result<SortSpec, ParseError> {
        let raw = self.word()?;
        let (descending, name, name_col) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest, value_col + 1),
            None => (false, raw.as_str(), value_col),
        };
        if name.is_empty() {
            let typed = if descending { "sort:-" } else { "sort:" };
            return Err(err(
                name_col,
                format!("expected a sort field after '{typed}': {}", sort_fields()),
            ));
        }
        match SortField::parse(name) {
            Some(field) => Ok(SortSpec { field, descending }),
            None => Err(err(
                name_col,
                format!(
                    "unknown sort field '{name}': sort fields are {}",
                    sort_fields()
                ),
            )),
        }
    }

    fn status_value(&mut self, value_col: usize) -> Result<u16, ParseError> {
        let raw = self.word()?;
        if raw.is_empty() {
            return Err(err(
                value_col,
                format!("expected a status after 'status:': {}", statuses()),
            ));
        }
        let mut mask = 0u16;
        let mut col = value_col;
        for item in raw.split(',') {
            if item.is_empty() {
                return Err(err(col, format!("expected a status: {}", statuses())));
            }
            match Status::parse(&item.to_ascii_lowercase()) {
                Some(s) => mask |= status_bit(s),
                None => {
                    return Err(err(
                        col,
                        format!("unknown status '{item}': statuses are {}", statuses()),
                    ));
                }
            }
            col += item.chars().count() + 1;
        }
        Ok(mask)
    }

    /// `value:`, `commission:`, `age:` or `expires:` and what follows.
    fn comparison(
        &mut self,
        name: &str,
        body: usize,
        value_col: usize,
    ) -> Result<Kind, ParseError> {
        let from = self.pos;
        self.word()?;
        let raw = &self.s[from..self.pos];
        // The longest operator typed (`>=` before `>`); none is `=`.
        let (cmp, op_len) = super::OPERATORS
            .iter()
            .find(|(op, _)| {
                let op: Vec<char> = op.chars().collect();
                raw.starts_with(&op)
            })
            .map_or((Cmp::Eq, 0), |(op, cmp)| (*cmp, op.len()));
        let num_col = value_col + op_len;
        let typed = self.slice(body, num_col);
        let rest = &raw[op_len..];
        Ok(match name {
            "value" => Kind::Value(cmp, amount(rest, num_col, &typed)?),
            "commission" => Kind::Commission(cmp, percent(rest, num_col, &typed)?),
            "age" => Kind::Age(cmp, duration(rest, num_col, &typed)?),
            _ => Kind::Expires(cmp, duration(rest, num_col, &typed)?),
        })
    }
}

/// Reads `12`, `12.5`, `.5` or `12.` at the start of `s` (at column `col`).
fn number(s: &[char], col: usize) -> Result<Option<Number>, ParseError> {
    let mut mantissa: u128 = 0;
    let mut digits = 0usize;
    let mut scale = 0u32;
    let mut dot = false;
    let mut len = 0usize;
    for &c in s {
        if c == '.' && !dot {
            dot = true;
        } else if let Some(d) = c.to_digit(10) {
            digits += 1;
            if digits > MAX_DIGITS {
                return Err(err(col, "number too large"));
            }
            mantissa = mantissa * 10 + u128::from(d);
            if dot {
                scale += 1;
            }
        } else {
            break;
        }
        len += 1;
    }
    Ok((digits > 0).then_some(Number {
        mantissa,
        scale,
        len,
        dot,
    }))
}

fn expected_number(col: usize, typed: &str) -> ParseError {
    err(col, format!("expected a number after '{typed}'"))
}

/// A currency amount with an optional `k` or `m`, in cents.
fn amount(s: &[char], col: usize, typed: &str) -> Result<i64, ParseError> {
    let n = number(s, col)?.ok_or_else(|| expected_number(col, typed))?;
    let unit = s.get(n.len).and_then(|c| {
        super::AMOUNT_UNITS
            .iter()
            .find(|(u, _)| c.eq_ignore_ascii_case(u))
    });
    let (multiplier, used) = match unit {
        Some((_, m)) => (*m, n.len + 1),
        None => (1, n.len),
    };
    if let Some(c) = s.get(used) {
        return Err(err(
            col + used,
            format!("unexpected '{c}': an amount is a number with an optional k or m (10k, 2.5m)"),
        ));
    }
    n.times(multiplier * 100)
        .ok_or_else(|| err(col, "number too large"))
}

/// A whole percent, with an optional `%`.
fn percent(s: &[char], col: usize, typed: &str) -> Result<i64, ParseError> {
    let n = number(s, col)?.ok_or_else(|| expected_number(col, typed))?;
    if n.dot {
        return Err(err(col, "commission is a whole percent (15, not 15.5)"));
    }
    let used = if s.get(n.len) == Some(&'%') {
        n.len + 1
    } else {
        n.len
    };
    if let Some(c) = s.get(used) {
        return Err(err(
            col + used,
            format!("unexpected '{c}': commission is a whole percent, like 15"),
        ));
    }
    n.times(1).ok_or_else(|| err(col, "number too large"))
}

/// A duration like `2d`, `90m`, `1.5h` or `1d12h`, in seconds.
fn duration(s: &[char], col: usize, typed: &str) -> Result<i64, ParseError> {
    let mut total: i64 = 0;
    let mut i = 0;
    while i < s.len() || i == 0 {
        let Some(n) = number(&s[i..], col + i)? else {
            return Err(if i == 0 {
                expected_number(col, typed)
            } else {
                err(col + i, "expected a number or the end of the duration")
            });
        };
        let unit_col = col + i + n.len;
        let other = s.get(i + n.len);
        let found_unit = other.and_then(|c| {
            super::DURATION_UNITS
                .iter()
                .find(|(u, _)| c.eq_ignore_ascii_case(u))
        });
        let unit = match found_unit {
            Some((_, secs)) => *secs,
            None => {
                let num: String = s[i..i + n.len].iter().collect();
                let found = match other {
                    Some(c) => format!(", not '{c}'"),
                    None => String::new(),
                };
                return Err(err(
                    unit_col,
                    format!("expected a unit (s, m, h, d or w) after '{num}'{found}"),
                ));
            }
        };
        total = n
            .times(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| err(col + i, "duration too large"))?;
        i += n.len + 1;
    }
    Ok(total)
}
