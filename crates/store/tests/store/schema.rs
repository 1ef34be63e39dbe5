//! The two schemas held in step. A fresh SQLite and a fresh PostgreSQL database are migrated
//! from empty; each is read back as a set of facts in one vocabulary (tables, columns with a
//! canonical type, nullability and default, primary keys, foreign keys, unique constraints
//! and indexes, other indexes, CHECK constraints, and what the triggers refuse), and the two
//! sets must be equal but for the short list of [`ALLOWED`] differences.

use std::collections::{BTreeMap, BTreeSet};

use ngoso_store::testing::TestDb;
use ngoso_store::{Backend, Db};

/// A difference the two backends are allowed.
enum Allowed {
    /// Facts that only one backend has (`None`: either), matching a pattern in which `*`
    /// stands for any text.
    Only(Option<Backend>, &'static str),
    /// A SQLite fact and a PostgreSQL fact that are the same once the first text is read as
    /// the second in the SQLite one.
    Reads(&'static str, &'static str),
}

/// The differences the two backends are allowed, each with its reason.
const ALLOWED: &[(Allowed, &str)] = &[
    (Allowed::Only(None, "* _sqlx_migrations*"), "sqlx's own table of applied migrations, in each backend's types"),
    (Allowed::Only(Some(Backend::Postgres), "trigger * before truncate"), "SQLite has no TRUNCATE to refuse"),
    (Allowed::Reads(" text ", " date "), "SQLite has no date type: sqlx stores a date there as ISO 8601 text"),
    (
        Allowed::Reads(" null-in-key", " not null"),
        "SQLite lets a rowid table's non-INTEGER primary key hold NULL (a legacy quirk); ngoso never writes one",
    ),
];

/// A schema as facts, e.g. `column households.code text not null` or
/// `foreign key residents (household_id) references households (id) on delete no action`.
type Facts = BTreeSet<String>;

#[tokio::test]
async fn the_schemas_are_in_step() {
    let sqlite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else { return };
    let (s, p) = (sqlite_facts(&sqlite.db).await, pg_facts(&pg.db).await);
    assert!(s.iter().any(|f| f.starts_with("foreign key ")), "no foreign keys read from SQLite: {s:#?}");
    assert!(p.iter().any(|f| f.starts_with("check ")), "no checks read from PostgreSQL: {p:#?}");
    let problems = differences(&s, &p);
    assert!(problems.is_empty(), "the schemas differ:\n{}", problems.join("\n"));
}

/// Every difference not allowed, and every allowed difference that no longer occurs (so
/// that the list stays true).
fn differences(sqlite: &Facts, pg: &Facts) -> Vec<String> {
    let mut used = vec![false; ALLOWED.len()];
    let mut only_sqlite: Facts = sqlite.difference(pg).cloned().collect();
    let mut only_pg: Facts = pg.difference(sqlite).cloned().collect();
    for (i, (allowed, _)) in ALLOWED.iter().enumerate() {
        if let Allowed::Reads(from, to) = allowed {
            for fact in only_sqlite.clone() {
                let read = fact.replacen(from, to, 1);
                if fact.contains(from) && only_pg.remove(&read) {
                    only_sqlite.remove(&fact);
                    used[i] = true;
                }
            }
        }
    }
    let mut out = Vec::new();
    for (backend, only) in [(Backend::Sqlite, &only_sqlite), (Backend::Postgres, &only_pg)] {
        for fact in only {
            let allowed = ALLOWED.iter().position(|(allowed, _)| {
                matches!(allowed, Allowed::Only(on, pattern) if on.is_none_or(|b| b == backend) && glob(pattern, fact))
            });
            match allowed {
                Some(i) => used[i] = true,
                None => out.push(format!("only on {}: {fact}", backend.as_str())),
            }
        }
    }
    for (i, (_, why)) in ALLOWED.iter().enumerate() {
        if !used[i] {
            out.push(format!("an allowed difference no longer occurs (remove it from the list): {why}"));
        }
    }
    out
}

/// Whether `text` matches `pattern`, in which `*` stands for any text.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(text) = text.strip_prefix(head) else { return false };
            (0..=text.len()).filter(|i| text.is_char_boundary(*i)).any(|i| glob(rest, &text[i..]))
        }
    }
}

/// The type of a column in one vocabulary for both backends.
fn canonical_type(declared: &str) -> String {
    let t = declared.trim().to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "integer" | "int" | "bigint" | "smallint" | "int2" | "int4" | "int8" | "serial" | "bigserial" => "int",
        "text" | "varchar" | "character varying" | "char" | "character" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" | "bool" => "bool",
        "real" | "double precision" | "float" | "float4" | "float8" | "double" => "float",
        "date" => "date",
        _ => return format!("other({t})"),
    }
    .into()
}

/// An SQL expression in one form for both backends: lower case, without PostgreSQL's casts
/// (`::text`), its `= ANY (ARRAY[…])` as `IN (…)`, and without parentheses or spaces around
/// commas.
fn normalise(expr: &str) -> String {
    let lower = expr.to_lowercase();
    let mut s = String::with_capacity(lower.len());
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("::") {
        s.push_str(&rest[..i]);
        let after = rest[i + 2..].trim_start();
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let mut after = &after[end..];
        for word in [" precision", " varying", "[]"] {
            after = after.strip_prefix(word).unwrap_or(after);
        }
        rest = after;
    }
    s.push_str(rest);
    let s = s.replace("= any (array[", "in (").replace(']', ")");
    let spaced: String = s.chars().map(|c| if c == '(' || c == ')' { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ").replace(" ,", ",").replace(", ", ",")
}

/// A column's default in one form: none for the key that numbers the rows (an INTEGER
/// PRIMARY KEY on SQLite, a sequence on PostgreSQL).
fn default_of(default: Option<&str>) -> String {
    match default.map(normalise) {
        Some(d) if !d.starts_with("nextval") => format!(" default {d}"),
        _ => String::new(),
    }
}

fn on_delete(action: &str) -> &'static str {
    match action.to_ascii_lowercase().as_str() {
        "cascade" | "c" => "cascade",
        "set null" | "n" => "set null",
        "set default" | "d" => "set default",
        "restrict" | "r" => "restrict",
        _ => "no action",
    }
}

/// The text inside the parentheses that open at byte `open` of `s`, and the index after
/// them; string literals may hold parentheses.
fn parenthesised(s: &str, open: usize) -> (&str, usize) {
    let (mut depth, mut quoted) = (0, false);
    for (i, c) in s[open..].char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return (&s[open + 1..open + i], open + i + 1);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {s}")
}

/// The key and predicate of a `CREATE [UNIQUE] INDEX … ON table [USING …] (key) [WHERE …]`.
fn index_parts(sql: &str) -> (String, Option<String>) {
    let on = sql.to_ascii_lowercase().find(" on ").expect("CREATE INDEX … ON");
    let open = on + sql[on..].find('(').expect("an index key");
    let (key, end) = parenthesised(sql, open);
    let rest = sql[end..].trim();
    let predicate = rest.get(..6).filter(|w| w.eq_ignore_ascii_case("where ")).map(|_| normalise(&rest[6..]));
    (normalise(key), predicate)
}

fn index_fact(table: &str, unique: bool, key: &str, predicate: Option<&str>) -> String {
    let kind = if unique { "unique" } else { "index" };
    match predicate {
        Some(p) => format!("{kind} {table} ({key}) where {p}"),
        None => format!("{kind} {table} ({key})"),
    }
}

/// Facts of a trigger, from its words: `(table, timing, events, guard)` where a guard is a
/// delete refused while other rows name the row: `(key, [(table, column)])`.
fn trigger_facts(table: &str, timing: &str, events: &[String], guard: Option<(&str, &[(String, String)])>) -> Facts {
    match guard {
        Some((key, named_by)) => {
            named_by.iter().map(|(t, c)| format!("delete refused while {table}.{key} is named by {t}.{c}")).collect()
        }
        None => events.iter().map(|e| format!("trigger {table} {timing} {e}")).collect(),
    }
}

/// The CHECK constraints of a `CREATE TABLE`, normalised.
fn sqlite_checks(create: &str) -> Vec<String> {
    let upper = create.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = upper[from..].find("CHECK").map(|i| from + i) {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let after = &upper[i + 5..];
        if word(upper[..i].chars().last()) || !after.trim_start().starts_with('(') {
            from = i + 5;
            continue;
        }
        let (expr, end) = parenthesised(create, i + 5 + after.find('(').expect("CHECK ("));
        out.push(normalise(expr));
        from = end;
    }
    out
}

async fn sqlite_facts(db: &Db) -> Facts {
    let Db::Sqlite(pools) = db else { panic!("a SQLite database") };
    let p = &pools.read;
    let mut facts = Facts::new();
    let tables: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetch_all(p).await.unwrap();
    for (table, create) in &tables {
        facts.insert(format!("table {table}"));
        let without_rowid = create.to_ascii_uppercase().contains("WITHOUT ROWID");
        let columns: Vec<(String, String, bool, Option<String>, i64)> =
            sqlx::query_as("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info($1)")
                .bind(table)
                .fetch_all(p)
                .await
                .unwrap();
        let keys = columns.iter().filter(|c| c.4 > 0).count();
        for (name, declared, not_null, default, pk) in &columns {
            // SQLite's own rule: only the one INTEGER PRIMARY KEY of a rowid table (the rowid)
            // and the key of a WITHOUT ROWID table refuse NULL without saying so.
            let rowid = *pk > 0 && keys == 1 && declared.eq_ignore_ascii_case("INTEGER");
            let null = match (*not_null || (*pk > 0 && (without_rowid || rowid)), *pk > 0) {
                (true, _) => "not null",
                (false, true) => "null-in-key",
                (false, false) => "null",
            };
            let default = if rowid { String::new() } else { default_of(default.as_deref()) };
            facts.insert(format!("column {table}.{name} {} {null}{default}", canonical_type(declared)));
        }
        let mut pk: Vec<&(String, String, bool, Option<String>, i64)> = columns.iter().filter(|c| c.4 > 0).collect();
        pk.sort_by_key(|c| c.4);
        if !pk.is_empty() {
            let cols: Vec<&str> = pk.iter().map(|c| c.0.as_str()).collect();
            facts.insert(format!("primary key {table} ({})", cols.join(",")));
        }
        let fks: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(table)
        .fetch_all(p)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, (String, Vec<String>, Vec<String>, String)> = BTreeMap::new();
        for (id, _, parent, from, to, action) in fks {
            let e = by_id.entry(id).or_insert_with(|| (parent, vec![], vec![], action));
            e.1.push(from);
            e.2.push(to);
        }
        for (parent, from, to, action) in by_id.into_values() {
            facts.insert(format!(
                "foreign key {table} ({}) references {parent} ({}) on delete {}",
                from.join(","),
                to.join(","),
                on_delete(&action)
            ));
        }
        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(table)
                .fetch_all(p)
                .await
                .unwrap();
        for (index, unique, origin) in indexes {
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                        .bind(&index)
                        .fetch_all(p)
                        .await
                        .unwrap();
                    facts.insert(index_fact(table, true, &cols.join(","), None));
                }
                _ => {
                    let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = $1")
                        .bind(&index)
                        .fetch_one(p)
                        .await
                        .unwrap();
                    let (key, predicate) = index_parts(&sql);
                    facts.insert(index_fact(table, unique, &key, predicate.as_deref()));
                }
            }
        }
        for check in sqlite_checks(create) {
            facts.insert(format!("check {table} {check}"));
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").fetch_all(p).await.unwrap();
    for (table, sql) in triggers {
        let words: Vec<String> = normalise(&sql).split(' ').map(str::to_owned).collect();
        let timing = words[3].clone();
        let on = words.iter().position(|w| w == "on").expect("CREATE TRIGGER … ON");
        let events: Vec<String> = words[4..on].iter().filter(|w| *w != "or").cloned().collect();
        // `WHEN EXISTS (SELECT 1 FROM child WHERE column = OLD.key) BEGIN SELECT RAISE(ABORT…`
        let guard = match &words[on + 2..] {
            [when, exists, select, one, from, child, wh, column, eq, old, ..]
                if [when, exists, select, one, from, wh, eq].map(String::as_str)
                    == ["when", "exists", "select", "1", "from", "where", "="]
                    && old.starts_with("old.")
                    && events == ["delete"]
                    && sql.contains("RAISE(ABORT") =>
            {
                Some((old["old.".len()..].to_owned(), vec![(child.clone(), column.clone())]))
            }
            _ => None,
        };
        let guard = guard.as_ref().map(|(k, n)| (k.as_str(), n.as_slice()));
        facts.extend(trigger_facts(&table, &timing, &events, guard));
    }
    facts
}

/// A constraint of a PostgreSQL table, with its columns (and those of the table it
/// references) in order.
#[derive(sqlx::FromRow)]
struct PgConstraint {
    table_name: String,
    /// `p`, `u`, `f`, `c`…
    kind: String,
    columns: Vec<String>,
    parent: Option<String>,
    parent_columns: Vec<String>,
    on_delete: String,
    definition: String,
}

async fn pg_facts(db: &Db) -> Facts {
    let Db::Pg(p) = db else { panic!("a PostgreSQL database") };
    let mut facts = Facts::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(p)
    .await
    .unwrap();
    facts.extend(tables.iter().map(|t| format!("table {t}")));
    let columns: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO', column_default::text \
         FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(p)
    .await
    .unwrap();
    for (table, name, data_type, not_null, default) in columns {
        let null = if not_null { "not null" } else { "null" };
        let default = default_of(default.as_deref());
        facts.insert(format!("column {table}.{name} {} {null}{default}", canonical_type(&data_type)));
    }
    // Constraints of the schema's tables (not of domains), with their columns in order.
    let constraints: Vec<PgConstraint> = sqlx::query_as(
        "SELECT t.relname::text AS table_name, c.contype::text AS kind, \
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns, \
           (SELECT r.relname::text FROM pg_class r WHERE r.oid = c.confrelid) AS parent, \
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS parent_columns, \
           c.confdeltype::text AS on_delete, pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema()",
    )
    .fetch_all(p)
    .await
    .unwrap();
    for c in constraints {
        let (table, cols) = (&c.table_name, c.columns.join(","));
        match c.kind.as_str() {
            "p" => {
                facts.insert(format!("primary key {table} ({cols})"));
            }
            "u" => {
                facts.insert(index_fact(table, true, &cols, None));
            }
            "f" => {
                facts.insert(format!(
                    "foreign key {table} ({cols}) references {} ({}) on delete {}",
                    c.parent.unwrap_or_default(),
                    c.parent_columns.join(","),
                    on_delete(&c.on_delete)
                ));
            }
            "c" => {
                let open = c.definition.find('(').expect("CHECK (…)");
                facts.insert(format!("check {table} {}", normalise(parenthesised(&c.definition, open).0)));
            }
            // NOT NULL (PostgreSQL 18 lists it here) is read with the columns.
            _ => {}
        }
    }
    // Indexes of their own: not those that enforce a primary key or a unique constraint.
    let indexes: Vec<(String, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.indisunique, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))",
    )
    .fetch_all(p)
    .await
    .unwrap();
    for (table, unique, def) in indexes {
        let (key, predicate) = index_parts(&def);
        facts.insert(index_fact(&table, unique, &key, predicate.as_deref()));
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.relname::text, pg_get_triggerdef(g.oid) FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() AND NOT g.tgisinternal",
    )
    .fetch_all(p)
    .await
    .unwrap();
    for (table, def) in triggers {
        // CREATE TRIGGER name BEFORE DELETE OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f('a', 'b')
        let lower = def.to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let on = words.iter().position(|w| *w == "on").expect("CREATE TRIGGER … ON");
        let events: Vec<String> = words[4..on].iter().filter(|w| **w != "or").map(|w| w.to_string()).collect();
        let function = lower.split("execute function ").nth(1).expect("EXECUTE FUNCTION");
        let guard = function.strip_prefix("refuse_delete_while_named(").map(|args| {
            let args: Vec<String> =
                args.trim_end_matches(')').split(',').map(|a| a.trim().trim_matches('\'').to_owned()).collect();
            let named_by: Vec<(String, String)> = args[1..].chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
            (args[0].clone(), named_by)
        });
        let guard = guard.as_ref().map(|(k, n)| (k.as_str(), n.as_slice()));
        facts.extend(trigger_facts(&table, words[3], &events, guard));
    }
    facts
}

#[test]
fn facts_read_alike() {
    assert_eq!(canonical_type("INTEGER"), "int");
    assert_eq!(canonical_type("double precision"), "float");
    assert_eq!(canonical_type("character varying(20)"), "text");
    assert_eq!(canonical_type("date"), "date");
    assert_eq!(canonical_type("jsonb"), "other(jsonb)");
    assert_eq!(
        normalise("COALESCE(category_id, (0)::bigint), COALESCE(unit_id, (0)::bigint)"),
        normalise("COALESCE(category_id, 0), COALESCE(unit_id, 0)")
    );
    assert_eq!(
        normalise("(subject = ANY (ARRAY['household'::text, 'person'::text]))"),
        normalise("subject IN ('household', 'person')")
    );
    assert_eq!(normalise("((a IS NULL) AND (b IS NULL))"), "a is null and b is null");
    assert_eq!(normalise("''::text"), "''");
    assert_eq!(normalise("0.5::double precision"), "0.5");
    assert_eq!(
        sqlite_checks("CREATE TABLE t (a INTEGER CHECK (a >= 1), b TEXT, CHECK (b IN ('x(', 'y')), checked INTEGER)"),
        ["a >= 1", "b in 'x ','y'"]
    );
    assert_eq!(
        index_parts("CREATE INDEX i ON public.t USING btree (a, b) WHERE ((c IS NULL))"),
        ("a,b".to_owned(), Some("c is null".to_owned()))
    );
    assert!(glob("trigger * before truncate", "trigger visits before truncate"));
    assert!(!glob("trigger * before truncate", "trigger visits before delete"));
    assert!(glob("* _sqlx_migrations*", "column _sqlx_migrations.version int not null"));
}

#[test]
fn any_other_difference_is_named() {
    let s: Facts = ["table a", "column a.x int not null", "column a.k text null-in-key", "column a.d text null"]
        .map(String::from)
        .into();
    let mut p: Facts = ["table a", "column a.x int not null", "column a.k text not null", "column a.d date null"]
        .map(String::from)
        .into();
    p.insert("trigger a before truncate".into());
    p.insert("table _sqlx_migrations".into());
    assert_eq!(differences(&s, &p), Vec::<String>::new());
    p.insert("column a.y text null".into());
    p.remove("column a.x int not null");
    p.insert("column a.x int null".into());
    assert_eq!(
        differences(&s, &p),
        [
            "only on sqlite: column a.x int not null",
            "only on postgres: column a.x int null",
            "only on postgres: column a.y text null"
        ]
    );
    // A text read as a date only where the other side has that date.
    p.remove("column a.d date null");
    p.insert("column a.d date not null".into());
    assert!(differences(&s, &p).contains(&"only on sqlite: column a.d text null".to_owned()));
    p.remove("trigger a before truncate");
    assert!(differences(&s, &p).iter().any(|d| d.contains("SQLite has no TRUNCATE")));
}
