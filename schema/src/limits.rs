//! The limits a request is checked against before anything runs. async-graphql checks depth and
//! complexity itself; these add what it does not: parser tokens (counted on the text,
//! before the parser spends anything on it), aliases and root fields (counted on the parsed
//! document). Every refusal is a `QUERY_TOO_COMPLEX` error naming the limit.

use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, ServerError, ServerResult};
use resolvers::ApiError;

/// The configured limits; the defaults suit the network's dashboards and partner tools with
/// room to spare (the partner inbox query of 50 referrals, each with its history, costs 2,101 in
/// complexity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest selection.
    pub depth: usize,
    /// Fields counted once per row a list may return: a page's `first` (20 when absent), a list
    /// without `first` its cap (`resolvers::connection::caps`, `officeHours` 500 slots).
    pub complexity: usize,
    /// Aliased fields in the whole document.
    pub aliases: usize,
    /// Fields selected at the root of the operation.
    pub root_fields: usize,
    /// Lexical tokens in the document.
    pub tokens: usize,
}

impl Limits {
    /// The defaults, as a constant so that the configuration's defaults are these.
    pub const DEFAULT: Limits =
        Limits { depth: 12, complexity: 10_000, aliases: 30, root_fields: 20, tokens: 5_000 };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A `QUERY_TOO_COMPLEX` error before execution.
fn too_complex(message: String) -> ServerError {
    crate::server_error(ApiError::QueryTooComplex(message))
}

/// How deep brackets may nest in a document's text: the selection depth, the nesting of values
/// ([`crate::shape::MAX_VALUE_NESTING`]) and room for arguments and fragments. The parser
/// recurses once per level, so a document past this is refused before it is parsed: 1,500
/// nested list brackets used to overflow a worker's stack and abort the process.
pub const MAX_TEXT_NESTING: usize = 64;

/// The limits checked on the text, before it is parsed.
pub(crate) fn check_text(query: &str, limits: &Limits) -> ServerResult<()> {
    if !within_tokens(query, limits.tokens) {
        return Err(too_complex(format!("the document has more than {} tokens", limits.tokens)));
    }
    if !within_nesting(query, MAX_TEXT_NESTING) {
        return Err(too_complex(format!(
            "the document nests brackets deeper than {MAX_TEXT_NESTING} levels"
        )));
    }
    Ok(())
}

/// Whether `text`'s brackets (`{`, `[`, `(`) nest at most `limit` deep, strings and comments aside.
pub fn within_nesting(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => while chars.next_if(|&c| c != '\n' && c != '\r').is_some() {},
            '"' => skip_string(&mut chars),
            '{' | '[' | '(' => {
                depth += 1;
                if depth > limit {
                    return false;
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// The limits checked on the parsed document.
pub(crate) fn check_document(document: &ExecutableDocument, limits: &Limits) -> ServerResult<()> {
    let aliases = count_aliases(document);
    if aliases > limits.aliases {
        return Err(too_complex(format!("{aliases} aliases: at most {} per document", limits.aliases)));
    }
    check_expansion(document)?;
    for (_, operation) in document.operations.iter() {
        let roots = count_root_fields(&operation.node.selection_set.node, document, 0);
        if roots > limits.root_fields {
            return Err(too_complex(format!(
                "{roots} root fields: at most {} per operation",
                limits.root_fields
            )));
        }
    }
    Ok(())
}

/// Whether `text` has at most `limit` GraphQL tokens. Stops counting at the limit, so a huge
/// document costs no more than a just-too-long one.
pub fn within_tokens(text: &str, limit: usize) -> bool {
    count_tokens(text, limit).is_some()
}

/// How many GraphQL tokens `text` has, if at most `limit`.
pub(crate) fn count_tokens(text: &str, limit: usize) -> Option<usize> {
    let mut tokens = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => continue,
            '#' => {
                while chars.next_if(|&c| c != '\n' && c != '\r').is_some() {}
                continue;
            }
            '"' => skip_string(&mut chars),
            '.' => {
                // `...` is one punctuator.
                while chars.next_if_eq(&'.').is_some() {}
            }
            c if c == '_' || c == '-' || c.is_ascii_alphanumeric() => {
                while chars
                    .next_if(|&c| c == '_' || c == '.' || c == '+' || c.is_ascii_alphanumeric())
                    .is_some()
                {}
            }
            _ => {}
        }
        tokens += 1;
        if tokens > limit {
            return None;
        }
    }
    Some(tokens)
}

/// Skips a string after its opening quote: `"…"` with escapes or a `"""…"""` block string.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    if chars.next_if_eq(&'"').is_some() {
        if chars.next_if_eq(&'"').is_none() {
            return; // the empty string ""
        }
        let mut quotes = 0;
        while let Some(c) = chars.next() {
            match c {
                '"' => quotes += 1,
                '\\' if chars.peek() == Some(&'"') => quotes = 0,
                _ => quotes = 0,
            }
            if quotes == 3 {
                return;
            }
        }
        return;
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' | '\n' | '\r' => return,
            _ => {}
        }
    }
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations = document.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    let fragments = document.fragments.values().map(|f| &f.node.selection_set.node);
    operations.chain(fragments).map(aliases_in).sum()
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0, // counted once, with its definition
        })
        .sum()
}

/// Fields at the root, looking through fragments (a spread at the root adds its fields). The
/// depth guard stops a fragment cycle, which validation refuses later anyway.
fn count_root_fields(set: &SelectionSet, document: &ExecutableDocument, depth: usize) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(fragment) => {
                count_root_fields(&fragment.node.selection_set.node, document, depth + 1)
            }
            Selection::FragmentSpread(spread) => fragment(document, &spread.node.fragment_name)
                .map_or(0, |f| count_root_fields(&f.node.selection_set.node, document, depth + 1)),
        })
        .sum()
}

/// The fields a selection set amounts to once every fragment is written out, and how deep its
/// fragment spreads chain. async-graphql's depth and complexity rules write fragments out as they
/// walk, so five spreads of a fragment that spreads another five times, twelve levels down, would
/// cost them 5¹² visits: this counts with one memo per fragment instead, in linear time, and
/// stops at `MAX_SPREAD_CHAIN` links (or a cycle, which validation refuses anyway).
struct Expansion<'a> {
    document: &'a ExecutableDocument,
    memo: std::collections::HashMap<&'a str, Option<u64>>,
}

/// How many fragment spreads may chain, one inside the next.
const MAX_SPREAD_CHAIN: usize = 32;

/// The fields a document may amount to once its fragments are written out.
const MAX_EXPANDED_FIELDS: u64 = 50_000;

impl<'a> Expansion<'a> {
    /// `None` when the chain of spreads is too long.
    fn fields(&mut self, set: &'a SelectionSet, chain: usize) -> Option<u64> {
        let mut total = 0u64;
        for item in &set.items {
            let fields = match &item.node {
                Selection::Field(field) => 1 + self.fields(&field.node.selection_set.node, chain)?,
                Selection::InlineFragment(f) => self.fields(&f.node.selection_set.node, chain)?,
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, chain + 1)?
                }
            };
            total = total.saturating_add(fields);
        }
        Some(total)
    }

    fn fragment(&mut self, name: &'a str, chain: usize) -> Option<u64> {
        if chain > MAX_SPREAD_CHAIN {
            return None;
        }
        if let Some(known) = self.memo.get(name) {
            return Some(known.unwrap_or(0)); // `None`: being counted, a cycle
        }
        let Some(definition) = self.document.fragments.get(name) else { return Some(0) };
        self.memo.insert(name, None);
        let fields = self.fields(&definition.node.selection_set.node, chain)?;
        self.memo.insert(name, Some(fields));
        Some(fields)
    }
}

/// Refuses a document whose fragments chain too deep or write out to too many fields.
fn check_expansion(document: &ExecutableDocument) -> ServerResult<()> {
    let mut expansion = Expansion { document, memo: Default::default() };
    let sets = document.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    let sets = sets.chain(document.fragments.values().map(|f| &f.node.selection_set.node));
    for set in sets {
        match expansion.fields(set, 0) {
            None => {
                return Err(too_complex(format!("fragment spreads chain more than {MAX_SPREAD_CHAIN} deep")));
            }
            Some(fields) if fields > MAX_EXPANDED_FIELDS => {
                return Err(too_complex(format!(
                    "the document amounts to more than {MAX_EXPANDED_FIELDS} fields once its fragments are written out"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Fields at the root of an operation, looking through fragments.
pub(crate) fn root_fields(set: &SelectionSet, document: &ExecutableDocument) -> usize {
    count_root_fields(set, document, 0)
}

fn fragment<'a>(
    document: &'a ExecutableDocument,
    name: &Positioned<Name>,
) -> Option<&'a Positioned<FragmentDefinition>> {
    document.fragments.get(&name.node)
}
