//! How many SSH sessions may run at once: per user and in total. A slot
//! is held by a [`Slot`] guard and given back when it is dropped (the
//! session ended, or its connection dropped).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Sessions open now.
#[derive(Debug)]
pub struct Slots {
    per_user: usize,
    total: usize,
    open: Mutex<(usize, HashMap<String, usize>)>,
}

impl Slots {
    /// Caps of `per_user` and `total` sessions (0: no cap).
    pub fn new(per_user: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user,
            total,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// A slot for `user`, or the message saying which cap is reached.
    pub fn take(self: &Arc<Self>, user: &str) -> Result<Slot, String> {
        let mut open = self.open.lock().expect("slots lock");
        if self.total > 0 && open.0 >= self.total {
            return Err(format!(
                "the exchange has {} SSH sessions open, its limit; try again later",
                self.total
            ));
        }
        let mine = open.1.get(user).copied().unwrap_or(0);
        if self.per_user > 0 && mine >= self.per_user {
            return Err(format!(
                "you have {mine} SSH sessions open, the limit per user; close one and try again"
            ));
        }
        open.0 += 1;
        *open.1.entry(user.to_owned()).or_insert(0) += 1;
        Ok(Slot {
            user: user.to_owned(),
            slots: self.clone(),
        })
    }

    /// Sessions open now, in total.
    pub fn open(&self) -> usize {
        self.open.lock().expect("slots lock").0
    }
}

/// One session's place; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    user: String,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("slots lock");
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_user_and_in_total_and_gives_back_on_drop() {
        let slots = Slots::new(2, 3);
        let a1 = slots.take("a").unwrap();
        let _a2 = slots.take("a").unwrap();
        assert!(slots.take("a").unwrap_err().contains("limit per user"));
        let _b1 = slots.take("b").unwrap();
        assert!(slots.take("c").unwrap_err().contains("its limit"));
        drop(a1);
        assert_eq!(slots.open(), 2);
        let _c1 = slots.take("c").unwrap();
        let unlimited = Slots::new(0, 0);
        let held: Vec<_> = (0..50).map(|_| unlimited.take("x").unwrap()).collect();
        assert_eq!(unlimited.open(), held.len());
    }
}
