//! What a document may name and send, checked against the schema as the caller's role sees it,
//! before async-graphql validates or runs anything.
//!
//! - **Nothing hidden is named.** async-graphql validates against the whole schema, so a field a
//!   role may not see (say `auditLog` for a partner) passes validation and is refused later with
//!   `FORBIDDEN`, while a field that never existed is "unknown": the difference confirms that
//!   the hidden field exists. Here every field, type condition and variable type is looked up in
//!   the role's own schema (read from its introspection), and anything outside it is reported in
//!   the words async-graphql uses for a name that does not exist. Suggestions are switched off
//!   on the schema, so no "Did you mean" names a hidden field either.
//! - **Bad input stops at the edge.** Every string of every argument, literal or variable, is
//!   refused when it holds a NUL character (PostgreSQL cannot store one), every `DateTime` and
//!   `Date` outside the years 1 to 9999 (what both databases store and order alike), and values
//!   nested deeper than [`MAX_VALUE_NESTING`]: one check for every resolver, on every transport.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet, Type};
use async_graphql::{Name, Pos, Positioned, Request, ServerError, ServerResult, Value, Variables};
use entities::Role;
use resolvers::{ApiError, Caller};
use serde_json::Value as Json;

/// How deep lists and input objects may nest inside one argument or variable.
pub const MAX_VALUE_NESTING: usize = 32;

const INTROSPECTION: &str = r#"{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { kind name
    fields(includeDeprecated: true) { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

/// The schema as every role sees it.
#[derive(Clone, Default)]
pub struct RoleShapes(Arc<HashMap<Role, Shape>>);

/// The schema as one role sees it: its types, each with its fields or input fields.
#[derive(Default)]
struct Shape {
    roots: [Option<String>; 3],
    types: HashMap<String, TypeShape>,
}

#[derive(Default)]
struct TypeShape {
    /// Output fields: name → (named type, arguments: name → named type).
    fields: HashMap<String, (String, HashMap<String, String>)>,
    /// Input fields: name → named type.
    input_fields: HashMap<String, String>,
}

impl RoleShapes {
    /// Reads every role's schema from its introspection of `schema`.
    pub(crate) async fn read(schema: &crate::AppSchema) -> RoleShapes {
        let mut shapes = HashMap::new();
        for &role in Role::ALL {
            let caller = Arc::new(Caller { role, user: None, client: None });
            let response = schema.execute(Request::new(INTROSPECTION).data(caller)).await;
            let json = serde_json::to_value(&response.data).unwrap_or_default();
            shapes.insert(role, Shape::from_introspection(&json["__schema"]));
        }
        RoleShapes(Arc::new(shapes))
    }

    /// Checks `document` and `variables` against the schema `role` sees.
    pub(crate) fn check(
        &self,
        role: Role,
        document: &ExecutableDocument,
        variables: &Variables,
    ) -> ServerResult<()> {
        let Some(shape) = self.0.get(&role) else { return Ok(()) };
        Checker { shape, document }.check(variables)
    }
}

impl Shape {
    fn from_introspection(schema: &Json) -> Shape {
        let name = |key: &str| schema[key]["name"].as_str().map(str::to_owned);
        let mut shape = Shape {
            roots: [name("queryType"), name("mutationType"), name("subscriptionType")],
            ..Default::default()
        };
        for ty in schema["types"].as_array().into_iter().flatten() {
            let list = |key: &str| ty[key].as_array().cloned().unwrap_or_default();
            let fields = list("fields")
                .iter()
                .map(|f| {
                    let args = f["args"].as_array().into_iter().flatten();
                    let args = args.map(|a| (string(&a["name"]), named(&a["type"]))).collect();
                    (string(&f["name"]), (named(&f["type"]), args))
                })
                .collect();
            let input_fields =
                list("inputFields").iter().map(|f| (string(&f["name"]), named(&f["type"]))).collect();
            shape.types.insert(string(&ty["name"]), TypeShape { fields, input_fields });
        }
        shape
    }

    fn root(&self, ty: OperationType) -> Option<&str> {
        let index = match ty {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots[index].as_deref()
    }
}

fn string(value: &Json) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The named type under any list and non-null wrappers.
fn named(ty: &Json) -> String {
    match ty["name"].as_str() {
        Some(name) => name.to_owned(),
        None if ty["ofType"].is_object() => named(&ty["ofType"]),
        None => String::new(),
    }
}

struct Checker<'a> {
    shape: &'a Shape,
    document: &'a ExecutableDocument,
}

fn bad_input(message: String, pos: Pos) -> ServerError {
    let mut error = ServerError::new(message, Some(pos));
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", resolvers::Code::BadUserInput.as_str());
    error.extensions = Some(extensions);
    error
}

fn unknown_type(name: &str, pos: Pos) -> ServerError {
    bad_input(format!("Unknown type \"{name}\""), pos)
}

impl Checker<'_> {
    fn check(&self, variables: &Variables) -> ServerResult<()> {
        for (_, operation) in self.document.operations.iter() {
            let operation = &operation.node;
            let Some(root) = self.shape.root(operation.ty) else {
                let message = format!("Schema is not configured for {}s.", operation.ty);
                return Err(bad_input(message, operation.selection_set.pos));
            };
            self.selection_set(root, &operation.selection_set)?;
            for definition in &operation.variable_definitions {
                let definition = &definition.node;
                let ty = base_name(&definition.var_type.node);
                if !self.shape.types.contains_key(ty) {
                    return Err(unknown_type(ty, definition.var_type.pos));
                }
                if let Some(value) = variables.get(&definition.name.node) {
                    self.value(value, ty, 0, definition.name.pos)?;
                }
                if let Some(default) = &definition.default_value {
                    self.value(&default.node, ty, 0, default.pos)?;
                }
            }
        }
        for (_, fragment) in self.document.fragments.iter() {
            let condition = &fragment.node.type_condition.node.on;
            if !self.shape.types.contains_key(condition.node.as_str()) {
                return Err(unknown_type(&condition.node, condition.pos));
            }
            self.selection_set(&condition.node, &fragment.node.selection_set)?;
        }
        Ok(())
    }

    /// Every field of `set` on the type `parent`; fragments spread here are checked on their own.
    fn selection_set(&self, parent: &str, set: &Positioned<SelectionSet>) -> ServerResult<()> {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let ty = self.field(parent, &field.name)?;
                    self.arguments(parent, field)?;
                    if let Some(ty) = ty {
                        self.selection_set(&ty, &field.selection_set)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let on = match &fragment.type_condition {
                        Some(condition) => {
                            let on = &condition.node.on;
                            if !self.shape.types.contains_key(on.node.as_str()) {
                                return Err(unknown_type(&on.node, on.pos));
                            }
                            on.node.as_str()
                        }
                        None => parent,
                    };
                    self.selection_set(on, &fragment.selection_set)?;
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    /// The named type of field `name` of `parent`, and its arguments checked; `None` for the
    /// meta field `__typename`, which has no selection.
    fn field(&self, parent: &str, name: &Positioned<Name>) -> ServerResult<Option<String>> {
        let field = name.node.as_str();
        let is_query = self.shape.root(OperationType::Query) == Some(parent);
        match field {
            "__typename" => return Ok(None),
            "__schema" if is_query => return Ok(Some("__Schema".into())),
            "__type" if is_query => return Ok(Some("__Type".into())),
            _ => {}
        }
        let known = self.shape.types.get(parent).and_then(|ty| ty.fields.get(field));
        match known {
            Some((ty, _)) => Ok(Some(ty.clone())),
            None => Err(bad_input(format!("Unknown field \"{field}\" on type \"{parent}\"."), name.pos)),
        }
    }

    /// The arguments of a field and of its directives. An argument the field does not have is
    /// async-graphql's to report; its value is still checked, as of no known type.
    fn arguments(&self, parent: &str, field: &async_graphql::parser::types::Field) -> ServerResult<()> {
        let args = self.shape.types.get(parent).and_then(|ty| ty.fields.get(field.name.node.as_str()));
        let directives = field.directives.iter().flat_map(|d| d.node.arguments.iter().map(|(_, v)| ("", v)));
        let own = field.arguments.iter().map(|(name, value)| {
            let ty = args.and_then(|(_, args)| args.get(name.node.as_str())).map_or("", String::as_str);
            (ty, value)
        });
        for (ty, value) in own.chain(directives) {
            // Variables inside a literal are checked with the variables.
            let constant =
                value.node.clone().into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null));
            let Ok(constant) = constant;
            self.value(&constant, ty, 0, value.pos)?;
        }
        Ok(())
    }

    /// A constant value of type `ty` ("" when unknown).
    fn value(&self, value: &Value, ty: &str, depth: usize, pos: Pos) -> ServerResult<()> {
        if depth > MAX_VALUE_NESTING {
            return Err(crate::server_error(ApiError::QueryTooComplex(format!(
                "a value nests lists or objects deeper than {MAX_VALUE_NESTING} levels"
            ))));
        }
        match value {
            Value::String(text) => check_string(text, ty, pos),
            Value::List(items) => items.iter().try_for_each(|item| self.value(item, ty, depth + 1, pos)),
            Value::Object(fields) => {
                let input = self.shape.types.get(ty).map(|t| &t.input_fields);
                fields.iter().try_for_each(|(name, field)| {
                    let field_ty = input.and_then(|f| f.get(name.as_str())).map_or("", String::as_str);
                    self.value(field, field_ty, depth + 1, pos)
                })
            }
            _ => Ok(()),
        }
    }
}

/// A string argument: no NUL anywhere; a `DateTime` or `Date` within the years 1 to 9999.
fn check_string(text: &str, ty: &str, pos: Pos) -> ServerResult<()> {
    if text.contains('\0') {
        return Err(bad_input("a string may not hold a NUL character (\\u0000)".into(), pos));
    }
    use chrono::Datelike;
    let year = match ty {
        "DateTime" => text.parse::<chrono::DateTime<chrono::Utc>>().ok().map(|t| t.year()),
        // chrono's date scalar is named `NaiveDate` in the schema.
        "Date" | "NaiveDate" => text.parse::<chrono::NaiveDate>().ok().map(|d| d.year()),
        _ => None,
    };
    match year {
        Some(year) if !(1..=9999).contains(&year) => {
            Err(bad_input(format!("{text}: a {ty} must lie in the years 1 to 9999"), pos))
        }
        _ => Ok(()),
    }
}

fn base_name(ty: &Type) -> &str {
    match &ty.base {
        async_graphql::parser::types::BaseType::Named(name) => name.as_str(),
        async_graphql::parser::types::BaseType::List(inner) => base_name(inner),
    }
}
