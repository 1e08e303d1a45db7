//! The derived views over complete UTC days: daily rollups, DAU/WAU/MAU, new users,
//! D1/D7/D30 retention by first-seen cohort, the funnel /start → /wallet → deposit →
//! purchase, top commands, start sources, usage; and one user's history.
//!
//! A report covers the `days` complete days before today; today shows only its active
//! and new users so far. Complete days no longer change, so their rollups are cached
//! (`r:DATE`, from two days back: a turn that began before midnight may still commit to
//! yesterday), and the views read today's data by listing keys only. Listings are not
//! re-validated against every concurrent write (only against keys added or removed), so
//! a report does not keep conflicting with the updates it counts.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use wharf_sdk::Error;

use crate::model::{
    self, Counts, CurrencyInfo, MAX_ROLLUP_NAMES, NONE, Rollup, UserRecord, day_key, day_prefix, event_key,
    event_prefix, new_prefix, rollup_key, user_key,
};
use crate::store::Store;

/// Retention is measured this many days after the first-seen day.
pub const RETENTION: [i64; 3] = [1, 7, 30];

/// Reads the store for one report, remembering each day's active users.
pub struct Views<'a, S: Store> {
    store: &'a mut S,
    today: i64,
    active: HashMap<i64, HashSet<i64>>,
}

impl<S: Store> std::fmt::Debug for Views<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views").field("today", &self.today).finish_non_exhaustive()
    }
}

/// One complete day of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    /// The day.
    pub day: i64,
    /// Its totals.
    pub rollup: Rollup,
    /// Of the users first seen that day, how many were active 1, 7 and 30 days later
    /// (`None` until that day is complete).
    pub retained: [Option<u64>; 3],
}

/// Everything `/stats` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The complete days covered, oldest first.
    pub days: Vec<DayRow>,
    /// Users active today so far.
    pub today_active: u64,
    /// Users first seen today so far.
    pub today_new: u64,
    /// Distinct users active in the 7 days ending today.
    pub wau: u64,
    /// Distinct users active in the 30 days ending today.
    pub mau: u64,
    /// The days' counts summed.
    pub totals: Counts,
    /// Retention: (retained, cohort users measurable) at D1, D7, D30.
    pub retention: [(u64, u64); 3],
    /// Of the users first seen in the period: started, then /wallet, then deposited,
    /// then bought.
    pub funnel: [u64; 4],
    /// Users first seen in the period by the payload of their first `/start`.
    pub sources: Vec<(String, u64)>,
    /// The wallet's currency, once a deposit told it.
    pub currency: Option<CurrencyInfo>,
}

impl<'a, S: Store> Views<'a, S> {
    /// Views as of `now_ms`.
    pub fn new(store: &'a mut S, now_ms: i64) -> Self {
        Self { store, today: model::day_of(now_ms), active: HashMap::new() }
    }

    /// Today (UTC day number).
    pub fn today(&self) -> i64 {
        self.today
    }

    fn users(&mut self, prefix: &str) -> Result<HashSet<i64>, Error> {
        Ok(self.store.keys(prefix)?.iter().filter_map(|k| model::user_of(k)).collect())
    }

    /// Users active on `day` (a key listing, remembered).
    pub fn active(&mut self, day: i64) -> Result<&HashSet<i64>, Error> {
        if !self.active.contains_key(&day) {
            let users = self.users(&day_prefix(day))?;
            self.active.insert(day, users);
        }
        Ok(&self.active[&day])
    }

    /// Users first seen on `day`.
    pub fn new_users(&mut self, day: i64) -> Result<HashSet<i64>, Error> {
        self.users(&new_prefix(day))
    }

    /// Distinct users active in the `n` days ending today.
    pub fn distinct(&mut self, n: i64) -> Result<u64, Error> {
        let mut all = HashSet::new();
        for day in (self.today - n + 1)..=self.today {
            all.extend(self.active(day)?.iter().copied());
        }
        Ok(all.len() as u64)
    }

    /// The totals of a complete day: cached, or summed from its users' counts (and
    /// cached when it is two or more days back).
    pub fn rollup(&mut self, day: i64) -> Result<Rollup, Error> {
        let key = rollup_key(day);
        if let Some(r) = self.store.get::<Rollup>(&key)? {
            return Ok(r);
        }
        let mut r = Rollup {
            active: self.active(day)?.len() as u64,
            new: self.new_users(day)?.len() as u64,
            ..Rollup::default()
        };
        for prefix in [day_prefix(day), event_prefix(day)] {
            let keys = self.store.keys(&prefix)?;
            for c in self.store.get_all::<Counts>(&keys)?.into_iter().flatten() {
                r.counts.add(&c, usize::MAX);
            }
        }
        for map in [&mut r.counts.c, &mut r.counts.s, &mut r.counts.u] {
            model::cap(map, MAX_ROLLUP_NAMES);
        }
        if day <= self.today - 2 {
            self.store.put(&key, &r)?;
        }
        Ok(r)
    }

    /// Of the users first seen on `cohort_day`, how many were active `after` days later,
    /// once that day is complete.
    pub fn retained(&mut self, cohort: &HashSet<i64>, cohort_day: i64, after: i64) -> Result<Option<u64>, Error> {
        let day = cohort_day + after;
        if day >= self.today {
            return Ok(None);
        }
        let active = self.active(day)?;
        Ok(Some(cohort.iter().filter(|u| active.contains(u)).count() as u64))
    }

    /// The report over the `days` complete days before today.
    pub fn report(&mut self, days: u32) -> Result<Report, Error> {
        let from = self.today - i64::from(days.max(1));
        let mut rows = Vec::new();
        let mut totals = Counts::default();
        let mut retention = [(0u64, 0u64); 3];
        let mut newcomers: Vec<i64> = Vec::new();
        for day in from..self.today {
            let rollup = self.rollup(day)?;
            totals.add(&rollup.counts, MAX_ROLLUP_NAMES);
            let cohort = self.new_users(day)?;
            let mut retained = [None; 3];
            for (i, after) in RETENTION.iter().enumerate() {
                retained[i] = self.retained(&cohort, day, *after)?;
                if let Some(n) = retained[i] {
                    retention[i].0 += n;
                    retention[i].1 += cohort.len() as u64;
                }
            }
            let mut cohort: Vec<i64> = cohort.into_iter().collect();
            cohort.sort_unstable();
            newcomers.extend(cohort);
            rows.push(DayRow { day, rollup, retained });
        }
        let keys: Vec<String> = newcomers.iter().map(|u| user_key(*u)).collect();
        let mut funnel = [0u64; 4];
        let mut sources: BTreeMap<String, u64> = BTreeMap::new();
        for rec in self.store.get_all::<UserRecord>(&keys)?.into_iter().flatten() {
            for step in funnel.iter_mut().take(rec.funnel_depth()) {
                *step += 1;
            }
            *sources.entry(rec.src.unwrap_or_else(|| NONE.to_owned())).or_default() += 1;
        }
        let mut sources: Vec<(String, u64)> = sources.into_iter().collect();
        sources.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let today = self.today;
        Ok(Report {
            days: rows,
            today_active: self.active(today)?.len() as u64,
            today_new: self.new_users(today)?.len() as u64,
            wau: self.distinct(7)?,
            mau: self.distinct(30)?,
            totals,
            retention,
            funnel,
            sources,
            currency: self.store.get(model::CURRENCY_KEY)?,
        })
    }
}

/// One user's counts per day (today included), newest first, and their record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The user's record, if analytics knows them.
    pub record: Option<UserRecord>,
    /// Days with counts (updates and business events together), newest first.
    pub days: Vec<(i64, Counts)>,
}

/// `user`'s history over the `days` days ending today.
pub fn history<S: Store>(s: &mut S, user: i64, now_ms: i64, days: u32) -> Result<History, Error> {
    let today = model::day_of(now_ms);
    let range: Vec<i64> = (0..i64::from(days.max(1))).map(|i| today - i).collect();
    let keys: Vec<String> = range.iter().flat_map(|d| [day_key(*d, user), event_key(*d, user)]).collect();
    let found: Vec<Option<Value>> = s.get_all(&keys)?;
    let mut out = Vec::new();
    for (day, pair) in range.iter().zip(found.chunks(2)) {
        let mut counts = Counts::default();
        let mut any = false;
        for v in pair.iter().flatten() {
            counts.add(&serde_json::from_value(v.clone())?, usize::MAX);
            any = true;
        }
        if any {
            out.push((*day, counts));
        }
    }
    Ok(History { record: s.get(&user_key(user))?, days: out })
}
