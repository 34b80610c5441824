//! Puts a response back into the shape the GraphQL spec gives it.
//!
//! async-graphql 7.1+ resolves the fields of an object concurrently and, since it no longer
//! fails a whole object for one field's error, leaves an errored field out of the object and
//! lists the others in the order they finished. The spec (and the contract: "a field … resolves
//! to `null` with a `FORBIDDEN` error at that field's path") wants the errored field present as
//! `null`, and the fields in the order the query selected them. [`restore`] takes the parsed
//! document of the request and, once it ran, inserts the `null`s at the errors' paths and
//! re-orders every object after its selection set.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, PathSegment, Response, Value};

/// Puts the `null`s at the errors' paths and orders every object after the operation's
/// selection in `document`.
pub(crate) fn restore(
    response: &mut Response,
    document: Option<&ExecutableDocument>,
    operation: Option<&str>,
) {
    for error in &response.errors {
        null_at(&mut response.data, &error.path);
    }
    if let Some(document) = document {
        if let Some(selection) = operation_selection(document, operation) {
            let shape = Shape::of(&[selection], document);
            reorder(&mut response.data, &shape);
        }
    }
}

/// Sets the field an error points at to `null` when the object it belongs to lacks it.
fn null_at(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut value = data;
    for segment in parents {
        value = match (segment, value) {
            (PathSegment::Field(name), Value::Object(map)) => match map.get_mut(name.as_str()) {
                Some(child) => child,
                None => return,
            },
            (PathSegment::Index(i), Value::List(list)) => match list.get_mut(*i) {
                Some(child) => child,
                None => return,
            },
            _ => return,
        };
    }
    let PathSegment::Field(name) = last else { return };
    // An object all of whose selected fields failed comes back as `null` itself: it did
    // resolve, so it becomes an object of nulls like any other.
    if matches!(value, Value::Null) {
        *value = Value::Object(Default::default());
    }
    if let Value::Object(map) = value {
        map.entry(Name::new(name)).or_insert(Value::Null);
    }
}

fn operation_selection<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a SelectionSet> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node.selection_set.node),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| &op.node.selection_set.node)
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node.selection_set.node)
        }
        _ => None,
    }
}

/// The response keys a group of selection sets produces, in order of first appearance, each with
/// the selection sets of its sub-fields (fragments flattened).
fn fields<'a>(
    sets: &[&'a SelectionSet],
    document: &'a ExecutableDocument,
) -> IndexMap<&'a str, Vec<&'a SelectionSet>> {
    let mut keys: IndexMap<&'a str, Vec<&'a SelectionSet>> = IndexMap::new();
    let mut stack: Vec<&'a SelectionSet> = sets.iter().rev().copied().collect();
    // Depth-first, in document order: a fragment's fields take the fragment's place.
    let mut ordered: Vec<&'a Selection> = Vec::new();
    fn flatten<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        out: &mut Vec<&'a Selection>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(_) => out.push(&item.node),
                Selection::InlineFragment(fragment) => {
                    flatten(&fragment.node.selection_set.node, document, out, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        flatten(&fragment.node.selection_set.node, document, out, depth + 1);
                    }
                }
            }
        }
    }
    while let Some(set) = stack.pop() {
        flatten(set, document, &mut ordered, 0);
    }
    for selection in ordered {
        if let Selection::Field(field) = selection {
            let entry = keys.entry(field.node.response_key().node.as_str()).or_default();
            if !field.node.selection_set.node.items.is_empty() {
                entry.push(&field.node.selection_set.node);
            }
        }
    }
    keys
}

/// The response keys of an object in selection order, each with the shape of its own value
/// (for a field with a selection set). Built once per request from the document, so that a list
/// of 50 objects does not work its selection sets out 50 times.
struct Shape<'a> {
    keys: IndexMap<&'a str, Option<Shape<'a>>>,
}

impl<'a> Shape<'a> {
    fn of(sets: &[&'a SelectionSet], document: &'a ExecutableDocument) -> Shape<'a> {
        let keys = fields(sets, document)
            .into_iter()
            .map(|(key, sub_sets)| (key, (!sub_sets.is_empty()).then(|| Shape::of(&sub_sets, document))))
            .collect();
        Shape { keys }
    }

    /// Whether `map` holds exactly these keys, in this order (mostly it does: then nothing
    /// moves).
    fn matches(&self, map: &IndexMap<Name, Value>) -> bool {
        map.len() == self.keys.len() && map.keys().zip(self.keys.keys()).all(|(a, b)| a.as_str() == *b)
    }
}

/// Re-orders an object (and everything below it) after its shape.
fn reorder(value: &mut Value, shape: &Shape<'_>) {
    match value {
        Value::List(items) => {
            for item in items {
                reorder(item, shape);
            }
        }
        Value::Object(map) => {
            if !shape.matches(map) {
                let mut old = std::mem::replace(map, IndexMap::with_capacity(map.len()));
                for key in shape.keys.keys() {
                    // The key moves with its value: no new name is allocated per object.
                    if let Some((name, child)) = old.swap_remove_entry(*key) {
                        map.insert(name, child);
                    }
                }
                // Anything the selection did not name (it should not happen) goes at the end.
                map.extend(old);
            }
            // The object's keys are now the shape's in its order, some perhaps missing, so both
            // are walked side by side: no key is hashed (a lookup per nested field was 2.5 % of
            // the inbox's instructions, bench/RESULTS.md session 13).
            let mut shape_keys = shape.keys.iter();
            for (name, child) in map.iter_mut() {
                let Some((_, sub)) = shape_keys.by_ref().find(|(key, _)| **key == name.as_str()) else {
                    break;
                };
                if let Some(sub) = sub {
                    reorder(child, sub);
                }
            }
        }
        _ => {}
    }
}
