//! Information-barrier segment filters (`UserGroupFilter`): parsing and evaluation against
//! directory users.
//!
//! No API reports the segments of many users at once, so ccaudit recomputes membership from the
//! same Entra attributes the service uses. Only a small OPATH subset is understood:
//! `Attr -eq 'v'`, `-ne`, `-like` (with `*` wildcards), `-and`, `-or`, `-not` and parentheses,
//! with case-insensitive operators, attributes and values. Anything else is an error rather than
//! a best guess, because a wrong segment assignment would turn into a wrong IB verdict; the
//! caller reports such a segment as unevaluable.

use super::directory::{GroupRef, User};
use crate::ids as canonical;

/// Deeper nesting than this is refused, so a hostile filter cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A directory attribute a segment filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Department,
    Company,
    /// `Office` / `PhysicalDeliveryOfficeName`.
    Office,
    /// `UsageLocation` / `CountryOrRegion`.
    UsageLocation,
    /// `CustomAttributeN` / `ExtensionAttributeN`, N in 1..=15.
    ExtensionAttribute(u8),
    /// Transitive group membership, matched by group id, display name or mail.
    MemberOf,
}

impl Attribute {
    fn from_name(name: &str) -> Option<Attribute> {
        let lower = name.to_ascii_lowercase();
        let numbered = lower
            .strip_prefix("customattribute")
            .or_else(|| lower.strip_prefix("extensionattribute"));
        if let Some(n) = numbered {
            // `parse` alone would accept `+3` or `03`; only the documented spellings count.
            return match n.parse::<u8>() {
                Ok(i @ 1..=15) if n == i.to_string() => Some(Attribute::ExtensionAttribute(i)),
                _ => None,
            };
        }
        match lower.as_str() {
            "department" => Some(Attribute::Department),
            "company" => Some(Attribute::Company),
            "office" | "physicaldeliveryofficename" => Some(Attribute::Office),
            "usagelocation" | "countryorregion" => Some(Attribute::UsageLocation),
            "memberof" => Some(Attribute::MemberOf),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Like,
}

/// A parsed segment filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        attribute: Attribute,
        op: Comparison,
        value: String,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// Three-valued result: a filter that needs data the audit could not read is `Unknown`, and
/// Kleene logic keeps it from deciding the outcome only where the other operand cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown(String),
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::Unknown(r), _) | (_, Truth::Unknown(r)) => Truth::Unknown(r),
            _ => Truth::True,
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::Unknown(r), _) | (_, Truth::Unknown(r)) => Truth::Unknown(r),
            _ => Truth::False,
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown => unknown,
        }
    }
}

/// What a filter is evaluated against: a user and, if they could be read, the user's groups.
pub struct Subject<'a> {
    pub user: &'a User,
    /// The user's transitive groups, or why they are not known.
    pub groups: Result<&'a [GroupRef], String>,
}

impl Filter {
    pub fn evaluate(&self, subject: &Subject<'_>) -> Truth {
        match self {
            Filter::And(a, b) => a.evaluate(subject).and(b.evaluate(subject)),
            Filter::Or(a, b) => a.evaluate(subject).or(b.evaluate(subject)),
            Filter::Not(a) => a.evaluate(subject).not(),
            Filter::Compare {
                attribute,
                op,
                value,
            } => compare(*attribute, *op, value, subject),
        }
    }
}

fn compare(attribute: Attribute, op: Comparison, value: &str, subject: &Subject<'_>) -> Truth {
    let user = subject.user;
    let scalar = match attribute {
        Attribute::Department => user.department.as_deref(),
        Attribute::Company => user.company_name.as_deref(),
        Attribute::Office => user.office_location.as_deref(),
        Attribute::UsageLocation => user.usage_location.as_ref().and_then(|l| l.as_deref()),
        Attribute::ExtensionAttribute(n) => {
            let key = format!("extensionAttribute{n}");
            user.extension_attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                .map(|(_, v)| v.as_str())
        }
        Attribute::MemberOf => {
            return match &subject.groups {
                Err(reason) => Truth::Unknown(reason.clone()),
                Ok(groups) => {
                    let hit = groups.iter().any(|g| group_matches(g, op, value));
                    Truth::from_bool(if op == Comparison::Ne { !hit } else { hit })
                }
            };
        }
    };
    // An unset attribute equals nothing, so `-ne` holds for it: the LDAP `(!(attr=v))` reading
    // of OPATH `-ne`.
    let hit = scalar.is_some_and(|actual| matches(op, actual, value));
    Truth::from_bool(if op == Comparison::Ne { !hit } else { hit })
}

/// True when `actual` equals (or, for `-like`, matches) `value`; `-ne` is the caller's negation.
fn matches(op: Comparison, actual: &str, value: &str) -> bool {
    match op {
        Comparison::Like => wildcard_match(&value.to_lowercase(), &actual.trim().to_lowercase()),
        Comparison::Eq | Comparison::Ne => actual.trim().to_lowercase() == value.to_lowercase(),
    }
}

fn group_matches(group: &GroupRef, op: Comparison, value: &str) -> bool {
    if op != Comparison::Like
        && let (Some(want), Some(have)) = (canonical::guid(value), canonical::guid(&group.id))
    {
        return want == have;
    }
    std::iter::once(Some(group.id.as_str()))
        .chain([group.display_name.as_deref(), group.mail.as_deref()])
        .flatten()
        .any(|candidate| matches(op, candidate, value))
}

/// `*` matches any run of characters; everything else matches itself. Both sides are already
/// lower-cased by the caller.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Position of the last `*` and the text position it was tried against, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    /// `-word`, lower-cased.
    Operator(String),
    Word(String),
    Text(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '\'' | '"' => {
                let start = i;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!("unbalanced quote {c} at character {}", start + 1));
                        }
                        // A doubled quote inside a string is a literal quote, as in PowerShell.
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            value.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(value));
            }
            '-' => {
                let start = i;
                i += 1;
                let word = take_word(&chars, &mut i);
                if word.is_empty() {
                    return Err(format!("a lone `-` at character {}", start + 1));
                }
                tokens.push(Token::Operator(word.to_ascii_lowercase()));
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                tokens.push(Token::Word(take_word(&chars, &mut i)));
            }
            other => {
                return Err(format!(
                    "unexpected character `{other}` at character {}",
                    i + 1
                ));
            }
        }
    }
    Ok(tokens)
}

fn take_word(chars: &[char], i: &mut usize) -> String {
    let mut word = String::new();
    while let Some(&c) = chars.get(*i) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            *i += 1;
        } else {
            break;
        }
    }
    word
}

/// Parses a `UserGroupFilter`; the error says what was not understood, in one line.
pub fn parse(text: &str) -> Result<Filter, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    let mut parser = Parser { tokens, pos: 0 };
    let filter = parser.or(0)?;
    match parser.tokens.get(parser.pos) {
        None => Ok(filter),
        Some(Token::Close) => Err("unbalanced `)`".into()),
        Some(t) => Err(format!(
            "unexpected {} after a complete condition",
            describe(t)
        )),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_operator(&self, name: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Operator(op)) if op == name)
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_operator("or") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_operator("and") {
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        match self.next() {
            Some(Token::Operator(op)) if op == "not" => {
                Ok(Filter::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    None => Err("unbalanced `(`".into()),
                    Some(t) => Err(format!("expected `)` but found {}", describe(&t))),
                }
            }
            Some(Token::Word(name)) => self.comparison(&name),
            Some(t) => Err(format!("expected a condition but found {}", describe(&t))),
            None => Err("the filter ends where a condition was expected".into()),
        }
    }

    fn comparison(&mut self, name: &str) -> Result<Filter, String> {
        let op = match self.next() {
            Some(Token::Operator(op)) => match op.as_str() {
                "eq" => Comparison::Eq,
                "ne" => Comparison::Ne,
                "like" => Comparison::Like,
                other => return Err(format!("unsupported operator `-{other}`")),
            },
            Some(t) => {
                return Err(format!(
                    "expected an operator after `{name}` but found {}",
                    describe(&t)
                ));
            }
            None => return Err(format!("`{name}` has no operator")),
        };
        let value = match self.next() {
            Some(Token::Text(v)) => v,
            Some(t) => {
                return Err(format!(
                    "expected a quoted value after `{name}` but found {}",
                    describe(&t)
                ));
            }
            None => return Err(format!("`{name}` has no value")),
        };
        // Attributes are resolved after the syntax so a filter that is both malformed and uses
        // an unknown attribute reports the syntax first; both are unevaluable either way.
        let attribute =
            Attribute::from_name(name).ok_or_else(|| format!("unsupported attribute `{name}`"))?;
        if value.trim().is_empty() {
            // Whether an empty value matches an unset attribute is not documented; refuse it.
            return Err(format!("`{name}` is compared with an empty value"));
        }
        if attribute == Attribute::MemberOf
            && value.trim_start().to_ascii_lowercase().starts_with("cn=")
        {
            return Err("MemberOf by distinguished name is not supported".into());
        }
        Ok(Filter::Compare {
            attribute,
            op,
            value: value.trim().to_string(),
        })
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Operator(op) => format!("`-{op}`"),
        Token::Word(w) => format!("`{w}`"),
        Token::Text(v) => format!("'{v}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn user() -> User {
        User {
            id: "748a7c7c-a489-4de4-8a68-4415f1d19a9c".into(),
            upn: "agent1@contoso.com".into(),
            display_name: Some("Agent One".into()),
            account_enabled: Some(true),
            user_type: Some("Member".into()),
            usage_location: Some(Some("US".into())),
            assigned_sku_ids: Vec::new(),
            department: Some("Contact Center".into()),
            company_name: Some("Contoso".into()),
            office_location: Some("Redmond 1".into()),
            extension_attributes: BTreeMap::from([(
                "extensionAttribute3".to_string(),
                "Voice".to_string(),
            )]),
        }
    }

    fn groups() -> Vec<GroupRef> {
        vec![GroupRef {
            id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
            display_name: Some("CC Agents".into()),
            mail: Some("cc-agents@contoso.com".into()),
        }]
    }

    fn eval(filter: &str) -> Truth {
        let user = user();
        let groups = groups();
        let subject = Subject {
            user: &user,
            groups: Ok(&groups),
        };
        parse(filter).unwrap().evaluate(&subject)
    }

    #[test]
    fn eq_matches_case_insensitively_with_either_quote() {
        assert_eq!(eval("Department -eq 'contact center'"), Truth::True);
        assert_eq!(eval("department -EQ \"CONTACT CENTER\""), Truth::True);
        assert_eq!(eval("Department -eq 'Sales'"), Truth::False);
    }

    #[test]
    fn ne_is_the_negation_of_eq_including_unset_attributes() {
        assert_eq!(eval("Department -ne 'Sales'"), Truth::True);
        assert_eq!(eval("Company -ne 'contoso'"), Truth::False);
        assert_eq!(eval("CustomAttribute9 -ne 'x'"), Truth::True);
    }

    #[test]
    fn like_supports_leading_inner_and_trailing_wildcards() {
        assert_eq!(eval("Office -like 'redmond*'"), Truth::True);
        assert_eq!(
            eval("PhysicalDeliveryOfficeName -like '*ond 1'"),
            Truth::True
        );
        assert_eq!(eval("Office -like 'r*d*1'"), Truth::True);
        assert_eq!(eval("Office -like 'seattle*'"), Truth::False);
        assert_eq!(eval("Office -like 'redmond'"), Truth::False);
        assert_eq!(eval("CustomAttribute9 -like '*'"), Truth::False);
    }

    #[test]
    fn extension_and_usage_location_attributes_resolve_to_directory_fields() {
        assert_eq!(eval("CustomAttribute3 -eq 'voice'"), Truth::True);
        assert_eq!(eval("ExtensionAttribute3 -eq 'voice'"), Truth::True);
        assert_eq!(eval("UsageLocation -eq 'us'"), Truth::True);
        assert_eq!(eval("CountryOrRegion -eq 'US'"), Truth::True);
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // Read as `Sales or (Contoso and Redmond)`: true; `(Sales or Contoso) and Seattle`: false.
        assert_eq!(
            eval("Department -eq 'Sales' -or Company -eq 'Contoso' -and Office -like 'Redmond*'"),
            Truth::True
        );
        assert_eq!(
            eval("Department -eq 'Contact Center' -or Company -eq 'x' -and Office -eq 'Seattle'"),
            Truth::True
        );
        let parsed = parse("Department -eq 'a' -or Company -eq 'b' -and Office -eq 'c'").unwrap();
        assert!(matches!(parsed, Filter::Or(_, ref right) if matches!(**right, Filter::And(..))));
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            eval("(Department -eq 'Contact Center' -or Company -eq 'x') -and Office -eq 'Seattle'"),
            Truth::False
        );
    }

    #[test]
    fn not_negates_a_condition_or_a_group() {
        assert_eq!(eval("-not Department -eq 'Sales'"), Truth::True);
        assert_eq!(
            eval("-not (Department -eq 'Sales' -or Company -eq 'Contoso')"),
            Truth::False
        );
        assert_eq!(eval("-NOT(-not(Company -eq 'Contoso'))"), Truth::True);
    }

    #[test]
    fn member_of_matches_group_id_name_or_mail() {
        assert_eq!(eval("MemberOf -eq 'CC Agents'"), Truth::True);
        assert_eq!(eval("MemberOf -eq 'cc-agents@contoso.com'"), Truth::True);
        assert_eq!(
            eval("MemberOf -eq '{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}'"),
            Truth::True
        );
        assert_eq!(eval("MemberOf -like 'cc *'"), Truth::True);
        assert_eq!(eval("MemberOf -ne 'CC Agents'"), Truth::False);
        assert_eq!(eval("MemberOf -eq 'Finance'"), Truth::False);
    }

    #[test]
    fn member_of_without_group_data_is_unknown_unless_the_other_operand_decides() {
        let user = user();
        let subject = Subject {
            user: &user,
            groups: Err("groups unavailable".into()),
        };
        let run = |f: &str| parse(f).unwrap().evaluate(&subject);
        assert_eq!(
            run("MemberOf -eq 'CC Agents'"),
            Truth::Unknown("groups unavailable".into())
        );
        assert_eq!(
            run("MemberOf -eq 'x' -and Department -eq 'Sales'"),
            Truth::False
        );
        assert_eq!(
            run("MemberOf -eq 'x' -or Company -eq 'Contoso'"),
            Truth::True
        );
        assert!(matches!(run("-not MemberOf -eq 'x'"), Truth::Unknown(_)));
    }

    #[test]
    fn doubled_quote_inside_a_value_is_a_literal_quote() {
        let f = parse("Company -eq 'O''Brien Ltd'").unwrap();
        assert!(matches!(f, Filter::Compare { ref value, .. } if value == "O'Brien Ltd"));
    }

    #[test]
    fn unsupported_attribute_is_an_error_naming_it() {
        let err = parse("Title -eq 'Agent'").unwrap_err();
        assert!(err.contains("unsupported attribute `Title`"), "{err}");
        assert!(parse("CustomAttribute16 -eq 'x'").is_err());
        assert!(parse("CustomAttribute03 -eq 'x'").is_err());
    }

    #[test]
    fn unbalanced_quote_is_an_error() {
        let err = parse("Department -eq 'Sales").unwrap_err();
        assert!(err.contains("unbalanced quote"), "{err}");
    }

    #[test]
    fn unbalanced_parentheses_are_errors() {
        assert!(
            parse("(Department -eq 'Sales'")
                .unwrap_err()
                .contains("unbalanced `(`")
        );
        assert!(
            parse("Department -eq 'Sales')")
                .unwrap_err()
                .contains("unbalanced `)`")
        );
    }

    #[test]
    fn unsupported_operator_and_unquoted_value_are_errors() {
        assert!(
            parse("Department -ceq 'Sales'")
                .unwrap_err()
                .contains("-ceq")
        );
        assert!(parse("Department -eq Sales").is_err());
        assert!(parse("Department -eq ''").is_err());
        assert!(parse("MemberOf -eq 'CN=Sales,OU=Groups,DC=contoso,DC=com'").is_err());
    }

    #[test]
    fn garbage_filters_are_errors_not_panics() {
        let deep = format!("{}Department -eq 'x'{}", "(".repeat(5000), ")".repeat(5000));
        let nots = format!("{}Department -eq 'x'", "-not ".repeat(5000));
        let garbage = [
            "",
            "   ",
            "-",
            "--",
            "-and",
            "(",
            ")",
            "()",
            "'",
            "\"",
            "Department",
            "Department -eq",
            "Department -eq 'x' -and",
            "Department -eq 'x' -or -or Company -eq 'y'",
            "Department -eq 'x' Company -eq 'y'",
            "{Department -eq 'x'}",
            "Department = 'x'",
            "Département -eq 'x'",
            "Department -eq 'x' -and (",
            "Department -like '**'",
            "\u{0}\u{ffff}🦀",
            deep.as_str(),
            nots.as_str(),
        ];
        let user = user();
        let subject = Subject {
            user: &user,
            groups: Ok(&[]),
        };
        for g in garbage {
            if let Ok(f) = parse(g) {
                // Only the well-formed oddities may parse; evaluating them must not panic either.
                let _ = f.evaluate(&subject);
            }
        }
        assert!(parse(&deep).unwrap_err().contains("nested"));
        assert!(parse("Department -like '**'").is_ok());
    }
}
