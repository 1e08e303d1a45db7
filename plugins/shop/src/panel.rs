//! The shop's admin views and actions (the `admin` export, rendered by the host in
//! `/admin`, `wharf admin` and the web dashboard): views `products` (filters city,
//! district, category; selectable rows for `discount`), `stock` and `sales` (a date range
//! with revenue per product and a series per day); actions `discount` (on a selection or
//! on everything a filter matches) and `import` (the `/import` line format). The logic
//! runs over any [`Store`], so it is unit-tested natively (`panel/tests.rs`); the
//! Telegram commands of [`crate::admin`] keep working as they are.

use std::collections::BTreeMap;

use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::time;

use crate::catalog::Places;
use crate::model::*;
use crate::reports::Stock;
use crate::store::{KvStore, Store};
use crate::{ShopPlugin, import, stock};

#[cfg(test)]
mod tests;

/// Rows of one `products` or `stock` page.
pub const PAGE: usize = 200;
/// Most days a sales report covers.
pub const MAX_DAYS: i64 = 366;
const DAY_MS: i64 = 86_400_000;

/// The filters of `products`, `stock` and `discount`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    /// City name (any case), or any.
    pub city: Option<String>,
    /// District name, or any.
    pub district: Option<String>,
    /// Category name, or any.
    pub category: Option<String>,
}

impl Filter {
    /// The filter parameters as given.
    pub fn from_params(p: &Params) -> Self {
        let get = |n: &str| p.text(n).map(|t| t.trim().to_owned());
        Self { city: get("city"), district: get("district"), category: get("category") }
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.district.is_none() && self.category.is_none()
    }

    fn matches(&self, places: &Places, p: &Product) -> bool {
        places.matches(p, self.city.as_deref(), self.district.as_deref(), self.category.as_deref())
    }
}

fn filter_params(spec: AdminSpec) -> AdminSpec {
    spec.param(Param::text("city", "City").help("Any case; empty for all"))
        .param(Param::text("district", "District"))
        .param(Param::text("category", "Category"))
}

/// The shop's views and actions.
pub fn spec() -> AdminSpec {
    let s = AdminSpec::new().view("products", "Products").describe("Products with prices and stock; filter by place");
    let s = filter_params(s).view("stock", "Stock").describe("Stock of every product: available, reserved, sold");
    let s = filter_params(s)
        .view("sales", "Sales")
        .describe("Orders and revenue over UTC days (default: today)")
        .param(Param::date("from", "From"))
        .param(Param::date("to", "To"))
        .action("discount", "Discount")
        .describe("Set a discount on the selected products, or on every product the filters match")
        .param(Param::ids("products", "Products"))
        .param(Param::integer("percent", "Percent").required().help("1-90; 0 removes a discount"));
    filter_params(s).action("import", "Import stock").describe("Add stock items in the /import format").param(
        Param::text("lines", "Items")
            .required()
            .help("city | district | category | product | price | payload [| photo]; several items separated by ;;"),
    )
}

/// Products matching `filter`, by id.
pub fn matching<S: Store>(s: &S, filter: &Filter) -> Result<Vec<Product>, wharf_sdk::Error> {
    let places = Places::load(s)?;
    Ok(s.values::<Product>("prod:")?.into_iter().filter(|p| filter.matches(&places, p)).collect())
}

/// Stock of product `p` by state.
pub fn stock_of<S: Store>(s: &S, p: &Product) -> Result<Stock, wharf_sdk::Error> {
    let mut st = Stock::default();
    for item in s.values::<Item>(&format!("item:{:06}:", p.id))? {
        match item.state {
            ItemState::Available => st.available += 1,
            ItemState::Reserved { .. } => st.reserved += 1,
            ItemState::Sold { .. } => st.sold += 1,
        }
    }
    Ok(st)
}

/// One page of products after the product id `page` (a cursor) and the next cursor.
fn paged(products: Vec<Product>, page: Option<&str>) -> (Vec<Product>, Option<String>) {
    let after: u32 = page.and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut rest: Vec<Product> = products.into_iter().filter(|p| p.id > after).collect();
    let next = (rest.len() > PAGE).then(|| rest[PAGE - 1].id.to_string());
    rest.truncate(PAGE);
    (rest, next)
}

/// View `products`.
pub fn products<S: Store>(s: &S, cur: &Currency, filter: &Filter, page: Option<&str>) -> Result<Output, AdminError> {
    let places = Places::load(s)?;
    let all = matching(s, filter)?;
    let total = all.len();
    let (rows, next) = paged(all, page);
    let mut table =
        Output::table(["Product", "Place", "Price", "Discount", "Final price", "Stock"]).actions(["discount"]);
    for p in &rows {
        let st = stock_of(s, p)?;
        let discount = if p.discount > 0 { format!("{}%", p.discount) } else { String::new() };
        table = table.row(
            p.id.to_string(),
            [
                format!("#{} {}", p.id, p.name),
                places.of(p),
                cur.format(p.price),
                discount,
                cur.format(p.final_price()),
                st.available.to_string(),
            ],
        );
    }
    let mut out = Output::text(format!("{total} products match.")).and(table);
    if let Some(n) = next {
        out = out.next_page(n);
    }
    Ok(out)
}

/// View `stock`.
pub fn stock_view<S: Store>(s: &S, filter: &Filter, page: Option<&str>) -> Result<Output, AdminError> {
    let places = Places::load(s)?;
    let (rows, next) = paged(matching(s, filter)?, page);
    let mut table = Output::table(["Product", "Place", "Available", "Reserved", "Sold"]).actions(["discount"]);
    let mut sum = Stock::default();
    for p in &rows {
        let st = stock_of(s, p)?;
        sum.available += st.available;
        sum.reserved += st.reserved;
        sum.sold += st.sold;
        let cells = [format!("#{} {}", p.id, p.name), places.of(p)];
        let counts = [st.available, st.reserved, st.sold].map(|n| n.to_string());
        table = table.row(p.id.to_string(), cells.into_iter().chain(counts));
    }
    let totals = [("Available", sum.available), ("Reserved", sum.reserved), ("Sold", sum.sold)];
    let mut out = Output::key_values(totals.map(|(k, v)| (k, v.to_string()))).and(table);
    if let Some(n) = next {
        out = out.next_page(n);
    }
    Ok(out)
}

/// View `sales` over the UTC days `from`..=`to` (Unix ms at midnight).
pub fn sales<S: Store>(s: &S, cur: &Currency, from: i64, to: i64) -> Result<Output, AdminError> {
    if to < from {
        return Err(AdminError::InvalidInput("the end date is before the start date".into()));
    }
    let days = (to - from) / DAY_MS + 1;
    if days > MAX_DAYS {
        return Err(AdminError::InvalidInput(format!("a report covers at most {MAX_DAYS} days")));
    }
    let end = to + DAY_MS;
    let (mut orders, mut revenue, mut gross) = (0i64, 0i64, 0i64);
    let mut per_product: BTreeMap<(String, u32), (i64, i64)> = BTreeMap::new();
    let len = usize::try_from(days).unwrap_or(0);
    let (mut per_day_orders, mut per_day_revenue) = (vec![0i64; len], vec![0i64; len]);
    let mut cursor = Some(format!("sold:{:013}", from.max(0)));
    'pages: loop {
        let page = s.list("sold:", cursor.as_deref(), 1000)?;
        for key in &page {
            let paid: i64 = key.split(':').nth(1).and_then(|t| t.parse().ok()).unwrap_or(i64::MAX);
            if paid >= end {
                break 'pages;
            }
            let Some(id) = s.get::<i64>(key)? else { continue };
            let Some(o) = s.get::<Order>(&order_key(id))? else { continue };
            orders += 1;
            revenue += o.final_price;
            gross += o.price;
            let entry = per_product.entry((o.name.clone(), o.product)).or_default();
            entry.0 += 1;
            entry.1 += o.final_price;
            if let Some(day) = usize::try_from((paid - from) / DAY_MS).ok().filter(|d| *d < len) {
                per_day_orders[day] += 1;
                per_day_revenue[day] += o.final_price;
            }
        }
        match page.last() {
            Some(last) => cursor = Some(last.clone()),
            None => break,
        }
    }
    let span = if from == to { time::date(from) } else { format!("{} – {}", time::date(from), time::date(to)) };
    let summary = Output::text(format!("Sales {span}")).and(Output::key_values([
        ("Orders", orders.to_string()),
        ("Revenue", cur.format(revenue)),
        ("Discounts given", cur.format(gross - revenue)),
        ("At list prices", cur.format(gross)),
    ]));
    let mut table = Output::table(["Product", "Orders", "Revenue"]);
    let mut by_revenue: Vec<_> = per_product.into_iter().collect();
    by_revenue.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    for ((name, id), (n, rev)) in by_revenue {
        table = table.row(id.to_string(), [format!("#{id} {name}"), n.to_string(), cur.format(rev)]);
    }
    let labels: Vec<String> = (0..days).map(|d| time::date(from + d * DAY_MS)).collect();
    let series = Output::series("Sales per day", labels)
        .line("orders", per_day_orders)
        .line(format!("revenue ({})", cur.code), per_day_revenue);
    Ok(summary.and(table).and(series))
}

/// Action `discount`: `percent` (0-90) on the products `ids`, or when there are none on
/// every product `filter` matches (a filter is then required). Returns the products
/// changed. Prices show discounted from then on ([`Product::final_price`], rounded down).
pub fn discount<S: Store>(
    s: &mut S,
    ids: &[String],
    filter: &Filter,
    percent: i64,
) -> Result<Vec<Product>, AdminError> {
    let pct = u8::try_from(percent)
        .ok()
        .filter(|p| *p <= 90)
        .ok_or_else(|| AdminError::InvalidInput(format!("percent must be 0-90, got {percent}")))?;
    let mut targets = Vec::new();
    if ids.is_empty() {
        if filter.is_empty() {
            return Err(AdminError::InvalidInput("select products, or give a city, district or category".into()));
        }
        targets = matching(s, filter)?;
    } else {
        for id in ids {
            let n: u32 = id.parse().map_err(|_| AdminError::InvalidInput(format!("{id:?} is not a product id")))?;
            let p = s.get::<Product>(&prod_key(n))?.ok_or_else(|| AdminError::NotFound(format!("no product #{n}")))?;
            targets.push(p);
        }
    }
    if targets.is_empty() {
        return Err(AdminError::NotFound("no product matches".into()));
    }
    for p in &mut targets {
        p.discount = pct;
        s.set(&prod_key(p.id), p)?;
    }
    Ok(targets)
}

/// Action `import`: items in the `/import` line format, separated by new lines or `;;`.
pub fn import<S: Store>(s: &mut S, cur: &Currency, text: &str) -> Result<stock::Summary, AdminError> {
    let text = text.replace(";;", "\n");
    let parsed = import::parse(&text, false, cur);
    if parsed.items == 0 {
        return Err(AdminError::InvalidInput("there are no item lines".into()));
    }
    let mut errors = parsed.errors;
    errors.extend(stock::check(s, &parsed.lines, cur)?);
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() || parsed.items > import::MAX_LINES {
        return Err(AdminError::InvalidInput(import::rejection(&errors, parsed.items)));
    }
    stock::apply(s, &parsed.lines).map_err(|e| AdminError::Other(format!("import failed: {e}")))
}

fn dates(p: &Params, now_ms: i64) -> Result<(i64, i64), AdminError> {
    let today = now_ms - now_ms.rem_euclid(DAY_MS);
    let from = p.date_ms("from")?;
    let to = p.date_ms("to")?;
    Ok(match (from, to) {
        (None, None) => (today, today),
        (Some(f), None) => (f, f.max(today)),
        (None, Some(t)) => (t, t),
        (Some(f), Some(t)) => (f, t),
    })
}

fn currency() -> Currency {
    crate::ledger::currency()
}

impl Admin for ShopPlugin {
    fn spec() -> AdminSpec {
        spec()
    }

    fn view(name: &str, params: &Params, page: Option<&str>, ctx: &Context) -> Result<Output, AdminError> {
        let filter = Filter::from_params(params);
        match name {
            "products" => products(&KvStore, &currency(), &filter, page),
            "stock" => stock_view(&KvStore, &filter, page),
            "sales" => {
                let (from, to) = dates(params, ctx.now_ms)?;
                sales(&KvStore, &currency(), from, to)
            }
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }

    fn act(name: &str, params: &Params, ctx: &Context) -> Result<Output, AdminError> {
        match name {
            "discount" => {
                let pct = params.required_integer("percent")?;
                let changed = discount(&mut KvStore, params.ids("products"), &Filter::from_params(params), pct)?;
                let mut event = BusinessEvent::new("discount.set")
                    .title("Discount set")
                    .emoji("🏷️")
                    .field("percent", pct)
                    .field("products", changed.len())
                    .field("via", "admin");
                if let Some(admin) = ctx.user_id {
                    event = event.user(admin);
                }
                event.record()?;
                let cur = currency();
                let mut table = Output::table(["Product", "Price", "Final price"]);
                for p in &changed {
                    let cells = [format!("#{} {}", p.id, p.name), cur.format(p.price), cur.format(p.final_price())];
                    table = table.row(p.id.to_string(), cells);
                }
                Ok(Output::text(format!("Discount {pct}% set on {} products.", changed.len())).and(table))
            }
            "import" => {
                let sum = import(&mut KvStore, &currency(), params.required_text("lines")?)?;
                let mut event = BusinessEvent::new("stock.imported")
                    .title("Stock imported")
                    .emoji("📦")
                    .field("items", sum.items)
                    .field("products", sum.products);
                if let Some(admin) = ctx.user_id {
                    event = event.user(admin);
                }
                event.record()?;
                Ok(Output::key_values([
                    ("Items imported", sum.items.to_string()),
                    ("New products", sum.products.to_string()),
                    ("New places", sum.places.to_string()),
                ]))
            }
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }
}
