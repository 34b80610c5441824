//! The limits a request is checked against before anything runs. async-graphql checks depth and
//! complexity itself; this extension adds what it does not: parser tokens (counted on the text,
//! before the parser spends anything on it), aliases and root fields (counted on the parsed
//! document). Every refusal is a `QUERY_TOO_COMPLEX` error naming the limit.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, ServerError, ServerResult, Variables};
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

pub(crate) struct DocumentLimits(pub Limits);

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimits(self.0.clone()))
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        check_text(query, &self.0)?;
        let document = next.run(ctx, query, variables).await?;
        check_document(&document, &self.0)?;
        Ok(document)
    }
}

/// The limits checked on the text, before it is parsed.
pub(crate) fn check_text(query: &str, limits: &Limits) -> ServerResult<()> {
    if within_tokens(query, limits.tokens) {
        Ok(())
    } else {
        Err(too_complex(format!("the document has more than {} tokens", limits.tokens)))
    }
}

/// The limits checked on the parsed document.
pub(crate) fn check_document(document: &ExecutableDocument, limits: &Limits) -> ServerResult<()> {
    let aliases = count_aliases(document);
    if aliases > limits.aliases {
        return Err(too_complex(format!("{aliases} aliases: at most {} per document", limits.aliases)));
    }
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
            return false;
        }
    }
    true
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

fn fragment<'a>(
    document: &'a ExecutableDocument,
    name: &Positioned<Name>,
) -> Option<&'a Positioned<FragmentDefinition>> {
    document.fragments.get(&name.node)
}
