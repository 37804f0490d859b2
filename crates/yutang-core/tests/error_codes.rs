#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every error code the source constructs is in the one list, `yutang_core::error_codes`, and
//! every code of the list is constructed somewhere (or is named as console-only there).
//!
//! How the scan finds codes. It reads every `crates/*/src/**/*.rs`, splits it into Rust tokens
//! (comments, char literals, lifetimes and raw strings are understood, so a code in a comment
//! or a doc example does not count and a `"` inside a comment does not derail it), and drops
//! test-only code: items under `#[cfg(test)]` and the files of `#[cfg(test)] mod x;`. In what
//! remains, a string literal is an error code when it is:
//!
//! 1. an argument in the position of a string parameter named `code` (`&'static str`, `&str`,
//!    `String`; or an untyped closure parameter) of a function, method or closure, found by
//!    reading the definitions: so `FieldError::new(field, code, message)`,
//!    `WebError::new(status, code, message)` and every local helper such as
//!    `refused(code, message)` or `let fail = |field, code: &str, message| …` are covered
//!    without naming them. Associated functions count when called as `Type::name(…)` or
//!    `Self::name(…)`; free functions and closures when called by name (or `module::name(…)`)
//!    with the same number of arguments, a file's own definition first, else one of its crate
//!    (two files' `fn invalid(…)` need not agree; WeCom's `fail(code: i64, …)` is not ours);
//! 2. the value of a `code` field in a struct or variant literal (`AppError::Rule { code: "…",
//!    … }`, `StoreError::Refused { code: "…", … }`, `RowError { code: "…".into(), … }`), except
//!    for the types of [`NOT_ERRORS`];
//! 3. the value of a `let code = …;` binding (`let code = if … { "a" } else { "b" };`), or
//!    the matching element of every tuple built for `let (code, message, …) = …;`;
//! 4. inside the body of a `fn code(…) -> &'static str` (the `match` that names each kind's
//!    code, e.g. `SegmentErrorKind::code`, `PromoRefusal::code`).
//!
//! Within such an argument, value or body, every literal counts except those inside
//! parentheses (`msg.starts_with("…")` choosing the code, a `format!`) and match patterns (a
//! literal before `=>` or `|`); so an `if` or `match` choosing between codes is read whole. A
//! constant (`SOME_CODE`) there counts as its `const SOME_CODE: &str = "…";` value, and fails
//! the test if no such constant is found. What the scan cannot see is a code assembled at run
//! time (`format!`): don't; codes are fixed strings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yutang_core::error_codes;

/// Types whose `code` field or `fn code` is not an error code, with the reason.
const NOT_ERRORS: &[(&str, &str)] = &[("Lang", "the console's language code, zh or en")];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
    /// Numbers, char literals, lifetimes: nothing the scan looks at.
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn tokenize(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let is_id = |ch: char| ch == '_' || ch.is_alphanumeric();
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            let start_line = line;
            let mut s = String::new();
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    s.push(c[i]);
                    i += 1;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                s.push(c[i]);
                i += 1;
            }
            i += 1;
            out.push(Token {
                tok: Tok::Str(s),
                line: start_line,
            });
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            if c.get(i + 1) == Some(&'\\') {
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && is_id(c[i]) {
                    i += 1;
                }
            }
            out.push(Token {
                tok: Tok::Other,
                line,
            });
        } else if is_id(ch) {
            let start = i;
            while i < c.len() && is_id(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // Raw strings r"…", r#"…"#, br"…"; byte strings b"…" and bytes b'x'.
            let raw = (word == "r" || word == "br") && matches!(c.get(i), Some('"') | Some('#'));
            if raw && !(c.get(i) == Some(&'#') && c.get(i + 1).is_some_and(|&x| is_id(x))) {
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1; // the opening quote
                let start_line = line;
                let mut s = String::new();
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    if c[i] == '\n' {
                        line += 1;
                    }
                    s.push(c[i]);
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line: start_line,
                });
            } else if word == "b" && c.get(i) == Some(&'"') {
                // Lexed as a string next round; bytes are never codes, but keep them a
                // literal so argument positions stay right.
                continue;
            } else if word == "b" && c.get(i) == Some(&'\'') {
                continue;
            } else if ch.is_ascii_digit() {
                out.push(Token {
                    tok: Tok::Other,
                    line,
                });
            } else if word == "r" && c.get(i) == Some(&'#') {
                // A raw identifier r#type.
                i += 1;
                let start = i;
                while i < c.len() && is_id(c[i]) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(c[start..i].iter().collect()),
                    line,
                });
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_punct(t: &[Token], i: usize, ch: char) -> bool {
    t.get(i).is_some_and(|x| x.tok == Tok::Punct(ch))
}

fn ident(t: &[Token], i: usize) -> Option<&str> {
    match t.get(i).map(|x| &x.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

fn is_ident(t: &[Token], i: usize, word: &str) -> bool {
    ident(t, i) == Some(word)
}

/// The index of the bracket closing the one at `open` (`(`, `[` or `{`).
fn closing(t: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, x) in t.iter().enumerate().skip(open) {
        match x.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    t.len()
}

/// The index after a `<…>` generic list starting at `i` (or `i` when there is none).
fn skip_generics(t: &[Token], mut i: usize) -> usize {
    if !is_punct(t, i, '<') {
        return i;
    }
    let mut depth = 0i32;
    while i < t.len() {
        if is_punct(t, i, '<') {
            depth += 1;
        } else if is_punct(t, i, '>') && !is_punct(t, i.wrapping_sub(1), '-') {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    i
}

/// Split `t[from..to]` at commas outside brackets (and outside closure parameter bars; and,
/// for parameter lists, outside `<…>`), into index ranges; an empty trailing part (a trailing
/// comma) is dropped.
fn split_commas(t: &[Token], from: usize, to: usize, types: bool) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = from;
    let mut in_bars = false;
    for j in from..to {
        match t[j].tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct('<') if types => depth += 1,
            Tok::Punct('>') if types && !is_punct(t, j.wrapping_sub(1), '-') => depth -= 1,
            // `|a, b| …` at the start of an argument is a closure's parameter list.
            Tok::Punct('|') if depth == 0 && (j == start || in_bars) => in_bars = !in_bars,
            Tok::Punct(',') if depth == 0 && !in_bars => {
                parts.push((start, j));
                start = j + 1;
            }
            _ => {}
        }
    }
    if start < to {
        parts.push((start, to));
    }
    parts
}

/// Remove test-only code: `#[cfg(test)]` items. Returns the kept tokens and the names of
/// `#[cfg(test)] mod name;` declarations (their files are skipped).
fn strip_tests(t: Vec<Token>) -> (Vec<Token>, Vec<String>) {
    let mut out = Vec::with_capacity(t.len());
    let mut test_mods = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let cfg_test = is_punct(&t, i, '#')
            && is_punct(&t, i + 1, '[')
            && is_ident(&t, i + 2, "cfg")
            && is_punct(&t, i + 3, '(')
            && is_ident(&t, i + 4, "test")
            && is_punct(&t, i + 5, ')')
            && is_punct(&t, i + 6, ']');
        if !cfg_test {
            out.push(t[i].clone());
            i += 1;
            continue;
        }
        // Skip the item: up to its `;` or through its `{…}` body.
        let mut j = i + 7;
        while j < t.len() {
            if is_punct(&t, j, ';') {
                if is_ident(&t, j - 2, "mod")
                    && let Some(name) = ident(&t, j - 1)
                {
                    test_mods.push(name.to_owned());
                }
                j += 1;
                break;
            }
            if is_punct(&t, j, '{') {
                j = closing(&t, j) + 1;
                break;
            }
            if is_punct(&t, j, '(') || is_punct(&t, j, '[') {
                j = closing(&t, j);
            }
            j += 1;
        }
        i = j;
    }
    (out, test_mods)
}

struct SourceFile {
    /// The crate's directory name, e.g. `yutang-app`.
    krate: String,
    path: PathBuf,
    toks: Vec<Token>,
}

/// Every non-test source file of the workspace's crates.
fn sources() -> Vec<SourceFile> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            collect(&src, &mut files);
        }
    }
    files.sort();
    let mut parsed: Vec<SourceFile> = Vec::new();
    let mut skip: BTreeSet<PathBuf> = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let (toks, test_mods) = strip_tests(tokenize(&text));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let dir = if matches!(stem, "mod" | "lib" | "main") {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        for m in test_mods {
            skip.insert(dir.join(format!("{m}.rs")));
            skip.insert(dir.join(&m).join("mod.rs"));
        }
        let krate = path
            .strip_prefix(&crates)
            .unwrap()
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        parsed.push(SourceFile { krate, path, toks });
    }
    parsed.retain(|f| !skip.contains(&f.path));
    parsed
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A callable with a `code` parameter: which argument it is, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct CodeParam {
    index: usize,
    arity: usize,
}

/// Where calls with a `code` argument are resolved.
#[derive(Default)]
struct Registry {
    /// Associated functions and methods, by `Type::name`.
    assoc: BTreeMap<String, BTreeSet<CodeParam>>,
    /// Free functions with a `code` parameter, by crate and name.
    free: BTreeMap<(String, String), BTreeSet<CodeParam>>,
    /// Every free function and closure a file defines, by file and name, with its `code`
    /// parameter if it has one: a call in that file means the local definition (two files'
    /// `fn invalid(…)` need not agree).
    local: BTreeMap<(PathBuf, String), Option<CodeParam>>,
    /// `const NAME: &str = "…";` anywhere, by name: a code may be passed as a constant.
    consts: BTreeMap<String, Vec<String>>,
}

impl Registry {
    /// The `code` parameters a call of `name` (bare or `module::name`) in `f` may mean.
    fn free_fn(&self, f: &SourceFile, name: &str) -> Vec<CodeParam> {
        match self.local.get(&(f.path.clone(), name.to_owned())) {
            Some(p) => p.iter().copied().collect(),
            None => self
                .free
                .get(&(f.krate.clone(), name.to_owned()))
                .into_iter()
                .flatten()
                .copied()
                .collect(),
        }
    }
}

/// The type an `impl … {` block at `i` (the `impl` keyword) is for: the last identifier
/// outside generics before the body (`impl<T> From<T> for X` → `X`).
fn impl_type(t: &[Token], i: usize) -> (String, usize) {
    let mut j = skip_generics(t, i + 1);
    let mut name = String::new();
    while j < t.len() && !is_punct(t, j, '{') && !is_ident(t, j, "where") {
        if is_punct(t, j, '<') {
            j = skip_generics(t, j);
            continue;
        }
        if let Some(w) = ident(t, j)
            && w != "for"
            && w != "dyn"
        {
            name = w.to_owned();
        }
        j += 1;
    }
    while j < t.len() && !is_punct(t, j, '{') {
        j += 1;
    }
    (name, j)
}

/// For each `{` that opens an `impl` body, the implemented type.
fn impl_bodies(t: &[Token]) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for i in 0..t.len() {
        if is_ident(t, i, "impl") && !is_punct(t, i.wrapping_sub(1), '&') {
            let (name, body) = impl_type(t, i);
            // `impl Trait` in argument or return position has no body of its own.
            if body < t.len() && !name.is_empty() && is_item_start(t, i) {
                out.insert(body, name);
            }
        }
    }
    out
}

/// Whether the `impl` at `i` starts an item (not `-> impl Fn…` or `x: impl Into<…>`).
fn is_item_start(t: &[Token], i: usize) -> bool {
    i == 0
        || is_punct(t, i - 1, '}')
        || is_punct(t, i - 1, ';')
        || is_punct(t, i - 1, '{')
        || is_punct(t, i - 1, ']')
        || is_ident(t, i - 1, "unsafe")
}

/// The type of the innermost `impl` enclosing token `i`, if any.
fn enclosing_impl(
    impls: &BTreeMap<usize, String>,
    closes: &BTreeMap<usize, usize>,
    i: usize,
) -> Option<String> {
    impls
        .iter()
        .filter(|(open, _)| **open < i && closes[*open] > i)
        .max_by_key(|(open, _)| **open)
        .map(|(_, name)| name.clone())
}

/// Read the parameter list `t[from..to]` (inside parentheses or closure bars): where a
/// parameter named `code` is (not counting `self`), and how many there are.
fn code_param(t: &[Token], from: usize, to: usize) -> Option<CodeParam> {
    let mut params = split_commas(t, from, to, true);
    if params
        .first()
        .is_some_and(|&(a, b)| (a..b).any(|k| is_ident(t, k, "self")))
    {
        params.remove(0);
    }
    // `code: &'static str`, `code: &str`, `code: String`, or an untyped closure parameter
    // (not `code: i64`, WeCom's numeric errcode).
    let index = params.iter().position(|&(a, b)| {
        is_ident(t, a, "code")
            && (a + 1 == b
                || (is_punct(t, a + 1, ':')
                    && (a + 2..b).any(|k| is_ident(t, k, "str") || is_ident(t, k, "String"))))
    })?;
    Some(CodeParam {
        index,
        arity: params.len(),
    })
}

fn register(files: &[SourceFile]) -> Registry {
    let mut reg = Registry::default();
    for f in files {
        let t = &f.toks;
        let impls = impl_bodies(t);
        let closes: BTreeMap<usize, usize> = impls.keys().map(|&o| (o, closing(t, o))).collect();
        for i in 0..t.len() {
            if is_ident(t, i, "fn")
                && let Some(name) = ident(t, i + 1)
            {
                let open = skip_generics(t, i + 2);
                if !is_punct(t, open, '(') {
                    continue;
                }
                let close = closing(t, open);
                let param = code_param(t, open + 1, close);
                match enclosing_impl(&impls, &closes, i) {
                    Some(ty) => {
                        if let Some(p) = param {
                            reg.assoc
                                .entry(format!("{ty}::{name}"))
                                .or_default()
                                .insert(p);
                        }
                    }
                    None => {
                        reg.local.insert((f.path.clone(), name.to_owned()), param);
                        if let Some(p) = param {
                            reg.free
                                .entry((f.krate.clone(), name.to_owned()))
                                .or_default()
                                .insert(p);
                        }
                    }
                }
            }
            // const NAME: &['static] str = "…";
            if is_ident(t, i, "const")
                && let Some(name) = ident(t, i + 1)
                && is_punct(t, i + 2, ':')
            {
                let eq = (i + 3..t.len()).find(|&k| is_punct(t, k, '=') || is_punct(t, k, ';'));
                if let Some(eq) = eq.filter(|&k| is_punct(t, k, '='))
                    && let Some(Tok::Str(v)) = t.get(eq + 1).map(|x| &x.tok)
                    && is_punct(t, eq + 2, ';')
                {
                    reg.consts
                        .entry(name.to_owned())
                        .or_default()
                        .push(v.clone());
                }
            }
            // let name = [move] |params| …
            if is_ident(t, i, "let")
                && let Some(name) = ident(t, i + 1)
                && is_punct(t, i + 2, '=')
            {
                let bar = if is_ident(t, i + 3, "move") {
                    i + 4
                } else {
                    i + 3
                };
                if is_punct(t, bar, '|') {
                    let end = (bar + 1..t.len()).find(|&k| is_punct(t, k, '|')).unwrap();
                    let param = code_param(t, bar + 1, end);
                    reg.local.insert((f.path.clone(), name.to_owned()), param);
                }
            }
        }
    }
    reg
}

type Found = BTreeMap<String, Vec<String>>;

fn note(found: &mut Found, reg: &Registry, f: &SourceFile, t: &[Token], from: usize, to: usize) {
    let mut add = |code: &str, line: usize| {
        found
            .entry(code.to_owned())
            .or_default()
            .push(format!("{}:{line}", f.path.display()))
    };
    // Literals inside parentheses are arguments of something else (`msg.starts_with("…")`
    // in an `if` choosing the code, `format!("…")`), not the value.
    let mut parens = 0i32;
    for (k, x) in t.iter().enumerate().take(to).skip(from) {
        match &x.tok {
            Tok::Punct('(') => parens += 1,
            Tok::Punct(')') => parens -= 1,
            // A literal before `=>` or `|` is a match pattern (`"refused" => 3`), not a value.
            Tok::Str(_) if matches!(t.get(k + 1).map(|n| &n.tok), Some(Tok::Punct('|' | '='))) => {}
            Tok::Str(s) if parens == 0 => add(s, x.line),
            // A constant passed as the code: its value (an unknown one fails the test).
            Tok::Ident(name)
                if parens == 0
                    && name.len() > 1
                    && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && !is_punct(t, k + 1, ':')
                    && !is_punct(t, k + 1, '(') =>
            {
                match reg.consts.get(name) {
                    Some(values) => values.iter().for_each(|v| add(v, x.line)),
                    None => add(&format!("<constant {name} not found>"), x.line),
                }
            }
            _ => {}
        }
    }
}

/// `let (a, code, b) = …;`: the code is the same element of every tuple the value builds
/// (`match e { X => ("a", m, f), … }`). Returns the element's ranges.
fn tuple_elements(
    t: &[Token],
    from: usize,
    to: usize,
    index: usize,
    arity: usize,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for k in from..to {
        let prev_is_callee = match t.get(k.wrapping_sub(1)).map(|x| &x.tok) {
            Some(Tok::Ident(w)) => w != "return",
            Some(Tok::Punct('!' | '>')) => !is_punct(t, k.wrapping_sub(2), '='),
            _ => false,
        };
        if is_punct(t, k, '(') && !prev_is_callee {
            let close = closing(t, k);
            let parts = split_commas(t, k + 1, close, false);
            if parts.len() == arity {
                out.push(parts[index]);
            }
        }
    }
    out
}

/// The end of an expression starting at `from`: the first `,`, `;` or closing bracket
/// outside brackets.
fn expr_end(t: &[Token], from: usize) -> usize {
    let mut depth = 0i32;
    for (j, x) in t.iter().enumerate().skip(from) {
        match x.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') if depth == 0 => return j,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(',' | ';') if depth == 0 => return j,
            _ => {}
        }
    }
    t.len()
}

fn scan(files: &[SourceFile], reg: &Registry) -> Found {
    let mut found = Found::new();
    for f in files {
        let t = &f.toks;
        let impls = impl_bodies(t);
        let closes: BTreeMap<usize, usize> = impls.keys().map(|&o| (o, closing(t, o))).collect();
        for i in 0..t.len() {
            // 1. Calls.
            if let Some(name) = ident(t, i)
                && is_punct(t, i + 1, '(')
                && !is_ident(t, i.wrapping_sub(1), "fn")
            {
                let path_call = i >= 2 && is_punct(t, i - 1, ':') && is_punct(t, i - 2, ':');
                let method_call = is_punct(t, i.wrapping_sub(1), '.');
                let mut params: Vec<CodeParam> = Vec::new();
                if path_call {
                    let qual = ident(t, i - 3).unwrap_or("");
                    let qual = if qual == "Self" {
                        enclosing_impl(&impls, &closes, i).unwrap_or_default()
                    } else {
                        qual.to_owned()
                    };
                    params.extend(
                        reg.assoc
                            .get(&format!("{qual}::{name}"))
                            .into_iter()
                            .flatten(),
                    );
                    // `module::function(…)`: a free function.
                    if qual.starts_with(|c: char| c.is_ascii_lowercase()) {
                        params.extend(reg.free_fn(f, name));
                    }
                } else if method_call {
                    let suffix = format!("::{name}");
                    params.extend(
                        reg.assoc
                            .iter()
                            .filter(|(k, _)| k.ends_with(&suffix))
                            .flat_map(|(_, p)| p.iter().copied()),
                    );
                } else {
                    params.extend(reg.free_fn(f, name));
                }
                let close = closing(t, i + 1);
                let args = split_commas(t, i + 2, close, false);
                let params: BTreeSet<CodeParam> = params.into_iter().collect();
                for p in params {
                    if p.arity == args.len() {
                        let (a, b) = args[p.index];
                        note(&mut found, reg, f, t, a, b);
                    }
                }
            }
            // 2. `code: …` in a struct literal.
            if is_ident(t, i, "code")
                && is_punct(t, i + 1, ':')
                && !is_punct(t, i + 2, ':')
                && (is_punct(t, i.wrapping_sub(1), '{') || is_punct(t, i.wrapping_sub(1), ','))
            {
                // The struct: the identifier before the enclosing `{`.
                // (A parameter list's `code: &str` is not a literal: inside parentheses.)
                let mut depth = 0i32;
                let mut k = i;
                let mut in_braces = false;
                while k > 0 {
                    k -= 1;
                    match t[k].tok {
                        Tok::Punct(')' | ']' | '}') => depth += 1,
                        Tok::Punct('(' | '[' | '{') if depth > 0 => depth -= 1,
                        Tok::Punct('{') => {
                            in_braces = true;
                            break;
                        }
                        Tok::Punct('(' | '[' | '|') if depth == 0 => break,
                        _ => {}
                    }
                }
                let owner = ident(t, k.wrapping_sub(1)).unwrap_or("");
                if in_braces && !NOT_ERRORS.iter().any(|(s, _)| *s == owner) {
                    note(&mut found, reg, f, t, i + 2, expr_end(t, i + 2));
                }
            }
            // 3. `let code = …;` and `let (…, code, …) = …;`
            if is_ident(t, i, "let") && is_ident(t, i + 1, "code") {
                let eq = (i + 2..t.len()).find(|&k| is_punct(t, k, '=')).unwrap();
                note(&mut found, reg, f, t, eq + 1, expr_end(t, eq + 1));
            }
            if is_ident(t, i, "let") && is_punct(t, i + 1, '(') {
                let close = closing(t, i + 1);
                let parts = split_commas(t, i + 2, close, false);
                if let Some(index) = parts
                    .iter()
                    .position(|&(a, b)| b == a + 1 && is_ident(t, a, "code"))
                    && is_punct(t, close + 1, '=')
                {
                    let end = expr_end(t, close + 2);
                    for (a, b) in tuple_elements(t, close + 2, end, index, parts.len()) {
                        note(&mut found, reg, f, t, a, b);
                    }
                }
            }
            // 4. `fn code(…) -> &'static str { … }`
            if is_ident(t, i, "fn") && is_ident(t, i + 1, "code") {
                let close = closing(t, i + 2);
                let returns_str = is_punct(t, close + 1, '-')
                    && is_punct(t, close + 2, '>')
                    && is_punct(t, close + 3, '&')
                    && (is_ident(t, close + 4, "str") || is_ident(t, close + 5, "str"));
                let owner = enclosing_impl(&impls, &closes, i).unwrap_or_default();
                if returns_str && !NOT_ERRORS.iter().any(|(s, _)| *s == owner) {
                    let body = (close..t.len()).find(|&k| is_punct(t, k, '{')).unwrap();
                    note(&mut found, reg, f, t, body, closing(t, body));
                }
            }
        }
    }
    found
}

fn found_codes() -> Found {
    let files = sources();
    assert!(files.len() > 100, "only {} source files found", files.len());
    let reg = register(&files);
    for key in ["FieldError::new", "WebError::new"] {
        assert!(reg.assoc.contains_key(key), "{key} not recognised");
    }
    scan(&files, &reg)
}

#[test]
fn every_constructed_code_is_listed() {
    let found = found_codes();
    assert!(found.len() > 100, "only {} codes found", found.len());
    let missing: Vec<String> = found
        .iter()
        .filter(|(code, _)| error_codes::find(code).is_none())
        .map(|(code, at)| format!("{code}  ({})", at.join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes missing from crates/yutang-core/src/error_codes.rs \
         (add each with its zh and en text):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_listed_code_is_constructed() {
    let found = found_codes();
    let unused: Vec<&str> = error_codes::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !found.contains_key(*c))
        .collect();
    assert!(
        unused.is_empty(),
        "listed error codes no source constructs (remove them, or move them to \
         CONSOLE_CODES if only the console shows them): {unused:?}"
    );
}

/// The scanner itself: what it must find and what it must not be fooled by.
#[test]
fn the_scanner_reads_rust() {
    let src = r##"
        // FieldError::new("f", "in_comment", "x")
        /* WebError::new(s, "in_block_comment", "m") /* nested */ */
        fn helper(a: &str, code: &'static str, m: String) -> E { todo() }
        impl WebError { fn new(status: S, code: &'static str, message: String) -> Self { x } }
        impl Other { fn new(a: &str, b: &str, c: &str) -> Self { x } }
        fn f() {
            let q = '"';
            let life: &'static str = "not_a_code";
            helper("a", "from_helper", format!("{}", 1));
            helper("a", "wrong_arity");
            WebError::new(StatusCode::X, "from_new", r#"raw "quoted""#);
            Other::new("a", "other_new", "c");
            let fail = |field: &str, code: &str, m: String| Row { code: code.into() };
            fail("f", "from_closure", m);
            let code = if m.starts_with("in_cond") { "let_a" } else { "let_b" };
            AppError::Rule { code: "rule_field", message: m };
            let code_of_store = 1;
            if msg.starts_with("in_condition") { x }
            let code = match reason { "pattern" | "alt" => 3, _ => 0 };
            let (code, message) = match e { A => ("tuple_a", f(1, 2)), _ => (x.to_owned(), "msg") };
            helper("a", A_CONST, m);
            helper("a", MISSING_CONST, m);
        }
        const A_CONST: &str = "from_const";
        fn code(self) -> &'static str { match self { A => "kind_a", B => "kind_b" } }
        impl Lang { fn code(self) -> &'static str { "zh" } }
        fn invalid(field: &'static str, code: &'static str, m: String) -> E { x }
        pub(crate) fn refused(code: &'static str, m: String) -> E { x }
        fn numeric(code: i64, m: &str) -> E { x }
        fn h() { numeric(INVALID_PARAMETER, "not_a_code_numeric") }
        #[cfg(test)]
        mod tests { fn t() { FieldError::new("f", "in_test", "m"); } }
    "##;
    // Another file of the crate: its own `invalid` has no code parameter; `refused` is x.rs's.
    let other = r#"
        fn invalid(path: &str, what: &str, m: String) -> E { x }
        fn g() { invalid("p", "not_a_code", m); super::x::refused("cross_file", m); }
    "#;
    let file = |name: &str, src: &str| SourceFile {
        krate: "x".into(),
        path: PathBuf::from(name),
        toks: strip_tests(tokenize(src)).0,
    };
    let files = [file("x.rs", src), file("y.rs", other)];
    let reg = register(&files);
    let found: BTreeSet<String> = scan(&files, &reg).into_keys().collect();
    let want: BTreeSet<String> = [
        "from_helper",
        "from_new",
        "from_closure",
        "let_a",
        "let_b",
        "rule_field",
        "kind_a",
        "kind_b",
        "cross_file",
        "tuple_a",
        "from_const",
        "<constant MISSING_CONST not found>",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, want);
}
