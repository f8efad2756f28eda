//! The `JqlQuery` structure `POST /jql/parse` returns: the parsed tree in the spec's shape
//! (`CompoundClause`, `FieldValueClause`, `FieldWasClause`, `FieldChangedClause`, operands with
//! their encoded JQL form).

use jiraflow_jql::ast::{self, Clause, FieldName, OperandKind};
use serde_json::{Value, json};

/// The `JqlQuery` object for `query`.
pub fn query(query: &ast::Query) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(c) = &query.clause {
        out.insert("where".to_owned(), clause(c));
    }
    if !query.order_by.is_empty() {
        let fields: Vec<Value> = query
            .order_by
            .iter()
            .map(|k| {
                let mut element = json!({ "field": field(&k.field) });
                if let (Some(d), Some(obj)) = (k.direction, element.as_object_mut()) {
                    obj.insert(
                        "direction".to_owned(),
                        json!(d.as_jql().to_ascii_lowercase()),
                    );
                }
                element
            })
            .collect();
        out.insert("orderBy".to_owned(), json!({ "fields": fields }));
    }
    Value::Object(out)
}

fn clause(c: &Clause) -> Value {
    match c {
        Clause::And { clauses, .. } => compound("and", clauses),
        Clause::Or { clauses, .. } => compound("or", clauses),
        Clause::Not { clause: inner, .. } => json!({
            "operator": "not",
            "clauses": [clause(inner)],
        }),
        Clause::Compare(cmp) => json!({
            "field": field(&cmp.field),
            "operator": cmp.op.as_jql().to_ascii_lowercase(),
            "operand": operand(&cmp.operand),
        }),
        Clause::Was(w) => json!({
            "field": field(&w.field),
            "operator": w.op.as_jql().to_ascii_lowercase(),
            "operand": operand(&w.operand),
            "predicates": predicates(&w.predicates),
        }),
        Clause::Changed(ch) => json!({
            "field": field(&ch.field),
            "operator": "changed",
            "predicates": predicates(&ch.predicates),
        }),
    }
}

fn compound(operator: &str, clauses: &[Clause]) -> Value {
    json!({
        "operator": operator,
        "clauses": clauses.iter().map(clause).collect::<Vec<_>>(),
    })
}

fn predicates(list: &[ast::HistoryPredicate]) -> Vec<Value> {
    list.iter()
        .map(|p| {
            json!({
                "operator": p.kind.as_jql().to_ascii_lowercase(),
                "operand": operand(&p.operand),
            })
        })
        .collect()
}

fn field(f: &ast::Field) -> Value {
    match &f.name {
        FieldName::Named(name) => json!({ "name": name, "encodedName": encode(name) }),
        FieldName::CustomId(id) => {
            let name = format!("cf[{id}]");
            json!({ "name": name, "encodedName": name })
        }
        FieldName::Property { name, key, path } => {
            let written = if path.is_empty() {
                format!("{name}[{}]", encode(key))
            } else {
                format!("{name}[{}].{path}", encode(key))
            };
            let entity = f.name.property_entity().unwrap_or("issue");
            json!({
                "name": written,
                "encodedName": written,
                "property": [{ "entity": entity, "key": key, "path": path }],
            })
        }
    }
}

fn operand(o: &ast::Operand) -> Value {
    match &o.kind {
        OperandKind::Empty => json!({ "keyword": "empty" }),
        OperandKind::String(s) => json!({ "value": s, "encodedValue": encode(s) }),
        OperandKind::Number(n) => json!({ "value": n.to_string(), "encodedValue": n.to_string() }),
        OperandKind::Function { name, args } => json!({
            "function": name,
            "arguments": args,
            "encodedOperand": encoded_operand(o),
        }),
        OperandKind::List(items) => json!({
            "values": items.iter().map(operand).collect::<Vec<_>>(),
            "encodedOperand": encoded_operand(o),
        }),
    }
}

fn encoded_operand(o: &ast::Operand) -> String {
    match &o.kind {
        OperandKind::Empty => "EMPTY".to_owned(),
        OperandKind::String(s) => encode(s),
        OperandKind::Number(n) => n.to_string(),
        OperandKind::Function { name, args } => format!(
            "{name}({})",
            args.iter()
                .map(|a| encode(a))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        OperandKind::List(items) => format!(
            "({})",
            items
                .iter()
                .map(encoded_operand)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A value as it can be written back into JQL: bare when it is a plain word, quoted otherwise.
fn encode(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "and" | "or" | "not" | "empty" | "null" | "order" | "by" | "in" | "is" | "was"
        );
    if plain {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(encode("DEMO-1"), "DEMO-1");
        assert_eq!(encode("In Progress"), "\"In Progress\"");
        assert_eq!(encode("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(encode("and"), "\"and\"");
    }
}
