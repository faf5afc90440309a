//! An API call's parameters as GitLab (Grape) reads them: the query string, then the body (JSON,
//! a form or a multipart form) merged over it, the body winning where both name a parameter;
//! `a[]=x` and `a[b]=y` make arrays and objects. Values are then read leniently, as Grape
//! coerces them: a number or a boolean may come as text (`"40"`, `"true"`), text as a number,
//! a list as one comma-separated text. Parameters the route does not know are ignored.

use axum::body::Bytes;
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The most parameters (or list items) one request may carry: a bound on what a client can
/// make the server hold.
const MAX_PARAMETERS: usize = 1000;

/// Where a request's parameters came from: the body's kind decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Json,
    Form,
}

/// Merges the query string and a JSON or form body into one object.
pub fn gather(query: &str, kind: BodyKind, body: &Bytes) -> Result<Map<String, Value>, String> {
    let mut params = Map::new();
    add_pairs(&mut params, query, "parameters")?;
    match kind {
        BodyKind::None => {}
        BodyKind::Form => add_pairs(&mut params, std::str::from_utf8(body).unwrap_or(""), "form body")?,
        BodyKind::Json => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => {
                if fields.len() > MAX_PARAMETERS {
                    return Err(format!("a request may carry at most {MAX_PARAMETERS} parameters"));
                }
                params.extend(fields);
            }
            Ok(Value::Null) => {}
            Ok(_) => return Err("invalid JSON body: expected an object of parameters".to_owned()),
            Err(error) => return Err(format!("invalid JSON body: {error}")),
        },
    }
    Ok(params)
}

/// Adds urlencoded `name=value` pairs (a query string or a form body).
pub fn add_pairs(params: &mut Map<String, Value>, encoded: &str, what: &str) -> Result<(), String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(encoded).map_err(|error| format!("invalid {what}: {error}"))?;
    if pairs.len() > MAX_PARAMETERS {
        return Err(format!("a request may carry at most {MAX_PARAMETERS} parameters"));
    }
    for (name, value) in pairs {
        insert(params, &name, Value::String(value));
    }
    Ok(())
}

/// Sets `name` (`key`, `key[]` or `key[sub]`, Rack's bracket forms) to `value`.
pub fn insert(params: &mut Map<String, Value>, name: &str, value: Value) {
    match name.split_once('[') {
        Some((key, rest)) if !key.is_empty() && rest.ends_with(']') => {
            let inner = &rest[..rest.len() - 1];
            if let Some(sub) = inner.strip_prefix("][") {
                // `a[][k]=…`: a list of objects; a key the last object has starts the next one.
                let sub = bracketed(sub);
                let first = sub.split('[').next().unwrap_or("").to_owned();
                let entry = params.entry(key.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
                if !entry.is_array() {
                    *entry = Value::Array(Vec::new());
                }
                if let Value::Array(items) = entry {
                    let starts_next = !matches!(items.last(), Some(Value::Object(last)) if !last.contains_key(&first));
                    if starts_next && items.len() < MAX_PARAMETERS {
                        items.push(Value::Object(Map::new()));
                    }
                    if let Some(Value::Object(last)) = items.last_mut() {
                        insert(last, &sub, value);
                    }
                }
            } else if inner.is_empty() {
                match params.entry(key.to_owned()).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(items) => items.push(value),
                    other => *other = Value::Array(vec![value]),
                }
            } else {
                let entry = params.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(fields) = entry {
                    // `a[b][c]=…` nests one level per bracket.
                    insert(fields, &bracketed(inner), value);
                }
            }
        }
        _ => {
            params.insert(name.to_owned(), value);
        }
    }
}

/// The rest of a bracketed name as a name of its own: `b][c` becomes `b[c]`.
fn bracketed(inner: &str) -> String {
    match inner.split_once("][") {
        Some((first, rest)) => format!("{first}[{rest}]"),
        None => inner.to_owned(),
    }
}

/// Reads `T` from gathered parameters; a bad one is named as GitLab names it
/// (`access_level is invalid`, `name is missing`).
pub fn read<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, String> {
    serde_path_to_error::deserialize(Lenient(Value::Object(params))).map_err(|error| {
        let inner = error.inner().to_string();
        if let Some(field) = inner.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            let path = error.path().to_string();
            return if path == "." { format!("{field} is missing") } else { format!("{path}[{field}] is missing") };
        }
        format!("{} is invalid", error.path())
    })
}

/// A parameter value read the way Grape coerces: see the module's comment.
struct Lenient(Value);

impl Lenient {
    fn text_number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.0 {
            Value::String(text) => {
                let text = text.trim();
                if let Ok(n) = text.parse::<i64>() {
                    visitor.visit_i64(n)
                } else if let Ok(n) = text.parse::<u64>() {
                    visitor.visit_u64(n)
                } else if let Ok(n) = text.parse::<f64>() {
                    visitor.visit_f64(n)
                } else {
                    Err(de::Error::invalid_type(de::Unexpected::Str(text), &visitor))
                }
            }
            other => other.deserialize_any(visitor),
        }
    }
}

impl<'de> Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(LenientSeq(items.into_iter())),
            Value::Object(fields) => visitor.visit_map(LenientMap { fields: fields.into_iter(), value: None }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match &self.0 {
            Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => visitor.visit_bool(true),
                "false" | "0" | "no" | "off" => visitor.visit_bool(false),
                _ => Err(de::Error::invalid_type(de::Unexpected::Str(text), &visitor)),
            },
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                visitor.visit_bool(n.as_i64() == Some(1))
            }
            _ => self.0.deserialize_bool(visitor),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.text_number(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            other => other.deserialize_string(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            // A list as one text: `tag_list=a,b` (GitLab's comma lists).
            Value::String(text) => {
                let items: Vec<Value> = text
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .take(MAX_PARAMETERS)
                    .map(|item| Value::String(item.to_owned()))
                    .collect();
                visitor.visit_seq(LenientSeq(items.into_iter()))
            }
            // `a[0]=x&a[1]=y` arrives as an object keyed by position.
            Value::Object(fields) => {
                visitor.visit_seq(LenientSeq(fields.into_iter().map(|(_, v)| v).collect::<Vec<_>>().into_iter()))
            }
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        char bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier
    }
}

struct LenientSeq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for LenientSeq {
    type Error = serde_json::Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|value| seed.deserialize(Lenient(value))).transpose()
    }
}

struct LenientMap {
    fields: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for LenientMap {
    type Error = serde_json::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.fields.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        seed.deserialize(Lenient(self.value.take().unwrap_or(Value::Null)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Member {
        user_id: i64,
        access_level: u8,
        #[serde(default)]
        expires_at: Option<String>,
        #[serde(default)]
        tag_list: Vec<String>,
        #[serde(default)]
        locked: Option<bool>,
    }

    fn read_from(query: &str, kind: BodyKind, body: &str) -> Result<Member, String> {
        read(gather(query, kind, &Bytes::from(body.to_owned()))?)
    }

    #[test]
    fn query_json_and_form_give_the_same_values() {
        let want = Member {
            user_id: 7,
            access_level: 40,
            expires_at: None,
            tag_list: vec!["a".into(), "b".into()],
            locked: Some(true),
        };
        let from_query = read_from("user_id=7&access_level=40&tag_list=a,b&locked=true", BodyKind::Json, "{}");
        let from_json = read_from(
            "",
            BodyKind::Json,
            r#"{"user_id": 7, "access_level": "40", "tag_list": ["a", "b"], "locked": true}"#,
        );
        let from_form = read_from("", BodyKind::Form, "user_id=7&access_level=40&tag_list[]=a&tag_list[]=b&locked=1");
        assert_eq!(from_query.unwrap(), want);
        assert_eq!(from_json.unwrap(), want);
        assert_eq!(from_form.unwrap(), want);
    }

    #[test]
    fn the_body_wins_over_the_query() {
        let member = read_from("user_id=1&access_level=10", BodyKind::Json, r#"{"access_level": 30}"#).unwrap();
        assert_eq!((member.user_id, member.access_level), (1, 30));
    }

    #[test]
    fn bad_and_missing_parameters_are_named_as_gitlab_names_them() {
        assert_eq!(
            read_from("user_id=1&access_level=owner", BodyKind::None, ""),
            Err("access_level is invalid".into())
        );
        assert_eq!(read_from("access_level=40", BodyKind::None, ""), Err("user_id is missing".into()));
        assert!(read_from("", BodyKind::Json, "[1]").unwrap_err().contains("object"));
        assert!(read_from("", BodyKind::Json, "{").unwrap_err().starts_with("invalid JSON body"));
    }

    #[test]
    fn brackets_nest() {
        let mut params = Map::new();
        for (name, value) in [
            ("variables[][key]", "A"),
            ("variables[][value]", "1"),
            ("variables[][key]", "B"),
            ("variables[][value]", "2"),
            ("options[git][depth]", "3"),
        ] {
            insert(&mut params, name, Value::String(value.into()));
        }
        assert_eq!(params["options"]["git"]["depth"], "3");
        assert_eq!(params["variables"], serde_json::json!([{"key": "A", "value": "1"}, {"key": "B", "value": "2"}]));
    }
}
