//! The SDL a role sees. Introspection is shaped per role (see `resolvers::policy::visible`), so
//! the per-role SDL is printed from an introspection query run as that role; the files
//! `schema/schema.<ROLE>.graphql` are committed and kept equal to this by a test.

use std::fmt::Write;
use std::sync::Arc;

use async_graphql::Request;
use entities::Role;
use resolvers::Caller;
use serde_json::Value;

const INTROSPECTION: &str = r#"{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { kind name description
    fields(includeDeprecated: true) { name description args { name description type { ...T } defaultValue } type { ...T } }
    inputFields { name description type { ...T } defaultValue }
    interfaces { name }
    enumValues(includeDeprecated: true) { name description }
    possibleTypes { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// The SDL of the schema as `role` sees it through introspection.
pub async fn sdl_for(role: Role) -> String {
    let caller = Arc::new(Caller { role, user: None, client: None });
    let response = super::builder(&super::Settings::default())
        .finish()
        .execute(Request::new(INTROSPECTION).data(caller))
        .await;
    let json = serde_json::to_value(&response.data).unwrap_or_default();
    print_schema(&json["__schema"])
}

fn print_schema(schema: &Value) -> String {
    let mut types: Vec<&Value> = schema["types"].as_array().map(|t| t.iter().collect()).unwrap_or_default();
    types.retain(|t| {
        let name = t["name"].as_str().unwrap_or("");
        !name.starts_with("__") && !BUILT_IN.contains(&name)
    });
    types.sort_by_key(|t| t["name"].as_str().unwrap_or("").to_owned());
    let mut out = String::new();
    for ty in types {
        print_type(&mut out, ty);
        out.push('\n');
    }
    out.push_str("schema {\n");
    for (op, key) in
        [("query", "queryType"), ("mutation", "mutationType"), ("subscription", "subscriptionType")]
    {
        if let Some(name) = schema[key]["name"].as_str() {
            let _ = writeln!(out, "\t{op}: {name}");
        }
    }
    out.push_str("}\n");
    out
}

fn description(out: &mut String, value: &Value, indent: &str) {
    if let Some(text) = value["description"].as_str().filter(|d| !d.is_empty()) {
        let _ = writeln!(
            out,
            "{indent}\"\"\"\n{indent}{}\n{indent}\"\"\"",
            text.replace('\n', &format!("\n{indent}"))
        );
    }
}

fn type_ref(value: &Value) -> String {
    match value["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&value["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&value["ofType"])),
        _ => value["name"].as_str().unwrap_or("?").to_owned(),
    }
}

fn arguments(args: &Value) -> String {
    let args: Vec<String> = args
        .as_array()
        .map(|a| {
            a.iter()
                .map(|arg| {
                    let default = arg["defaultValue"].as_str().map(|d| format!(" = {d}")).unwrap_or_default();
                    format!("{}: {}{default}", arg["name"].as_str().unwrap_or("?"), type_ref(&arg["type"]))
                })
                .collect()
        })
        .unwrap_or_default();
    if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) }
}

fn print_type(out: &mut String, ty: &Value) {
    description(out, ty, "");
    let name = ty["name"].as_str().unwrap_or("?");
    match ty["kind"].as_str().unwrap_or("") {
        "SCALAR" => {
            let _ = writeln!(out, "scalar {name}");
        }
        "ENUM" => {
            let _ = writeln!(out, "enum {name} {{");
            for value in ty["enumValues"].as_array().into_iter().flatten() {
                description(out, value, "\t");
                let _ = writeln!(out, "\t{}", value["name"].as_str().unwrap_or("?"));
            }
            out.push_str("}\n");
        }
        "UNION" => {
            let members: Vec<&str> = ty["possibleTypes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["name"].as_str())
                .collect();
            let _ = writeln!(out, "union {name} = {}", members.join(" | "));
        }
        kind => {
            let keyword = match kind {
                "INPUT_OBJECT" => "input",
                "INTERFACE" => "interface",
                _ => "type",
            };
            let interfaces: Vec<&str> = ty["interfaces"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["name"].as_str())
                .collect();
            let implements = if interfaces.is_empty() {
                String::new()
            } else {
                format!(" implements {}", interfaces.join(" & "))
            };
            let _ = writeln!(out, "{keyword} {name}{implements} {{");
            let fields = if kind == "INPUT_OBJECT" { &ty["inputFields"] } else { &ty["fields"] };
            for field in fields.as_array().into_iter().flatten() {
                description(out, field, "\t");
                let default = field["defaultValue"].as_str().map(|d| format!(" = {d}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "\t{}{}: {}{default}",
                    field["name"].as_str().unwrap_or("?"),
                    arguments(&field["args"]),
                    type_ref(&field["type"])
                );
            }
            out.push_str("}\n");
        }
    }
}
