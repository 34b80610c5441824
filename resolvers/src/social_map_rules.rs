//! What an entry on the social map must be, whoever writes it: `createService` and
//! `updateService` check a service with these rules and limits, and so does the HSDS import, so
//! that neither door can store what the other refuses.

use entities::LifeDomain;

/// A text field of a service, as each door names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Description,
    Url,
    Email,
    Phone,
    Eligibility,
    Fees,
    ApplicationProcess,
    Alert,
    Languages,
    LifeDomains,
}

impl Field {
    /// The field of `ServiceInput`.
    pub fn graphql(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::Url => "url",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Eligibility => "eligibility",
            Field::Fees => "fees",
            Field::ApplicationProcess => "applicationProcess",
            Field::Alert => "alert",
            Field::Languages => "languages",
            Field::LifeDomains => "lifeDomains",
        }
    }

    /// The field of an HSDS service.
    pub fn hsds(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::Url => "url",
            Field::Email => "email",
            Field::Phone => "phones[0].number",
            Field::Eligibility => "eligibility_description",
            Field::Fees => "fees_description",
            Field::ApplicationProcess => "application_process",
            Field::Alert => "alert",
            Field::Languages => "languages",
            Field::LifeDomains => "attributes",
        }
    }

    /// The most characters the field may hold.
    pub fn max_chars(self) -> usize {
        match self {
            Field::Name => NAME_CHARS,
            Field::Description => 10_000,
            Field::Url => 2_000,
            Field::Email => 254,
            Field::Phone => 50,
            Field::Eligibility | Field::Fees | Field::ApplicationProcess => 4_000,
            Field::Alert => 1_000,
            Field::Languages | Field::LifeDomains => 3,
        }
    }
}

/// The most characters of a name (of a service, an organisation or a location) or an address line.
pub const NAME_CHARS: usize = 200;
/// The most languages a service lists.
pub const MAX_LANGUAGES: usize = 20;

/// A service as written, before it is stored.
#[derive(Default)]
pub struct ServiceDraft<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub url: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub eligibility: Option<&'a str>,
    pub fees: Option<&'a str>,
    pub application_process: Option<&'a str>,
    pub alert: Option<&'a str>,
    /// As given: trimmed and lower-cased by [`languages`].
    pub languages: &'a [String],
    /// As given: sorted and without repeats by [`ServiceDraft::check`]. None is fine: a
    /// publisher's service may come without our vocabulary, and staff may place one later.
    pub life_domains: &'a [LifeDomain],
}

/// A service that passed [`ServiceDraft::check`]: what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidService {
    /// Trimmed.
    pub name: String,
    /// Trimmed, lower-cased, sorted, without repeats.
    pub languages: Vec<String>,
    /// Sorted, without repeats.
    pub life_domains: Vec<LifeDomain>,
}

impl ServiceDraft<'_> {
    /// The one check of a service, whichever door writes it (`createService`, `updateService`,
    /// the HSDS import): what may be stored, or every rule the draft breaks, by field.
    pub fn check(&self) -> Result<ValidService, Vec<(Field, String)>> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut life_domains = self.life_domains.to_vec();
        life_domains.sort();
        life_domains.dedup();
        Ok(ValidService {
            name: self.name.trim().to_owned(),
            languages: languages(self.languages).unwrap_or_default(),
            life_domains,
        })
    }

    /// Every rule the draft breaks, by field; none when it may be stored.
    pub fn problems(&self) -> Vec<(Field, String)> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push((Field::Name, "must not be empty".to_owned()));
        }
        let texts = [
            (Field::Name, Some(self.name)),
            (Field::Description, self.description),
            (Field::Url, self.url),
            (Field::Email, self.email),
            (Field::Phone, self.phone),
            (Field::Eligibility, self.eligibility),
            (Field::Fees, self.fees),
            (Field::ApplicationProcess, self.application_process),
            (Field::Alert, self.alert),
        ];
        for (field, value) in texts {
            if let Some(problem) = value.and_then(|v| text_problem(v, field.max_chars())) {
                problems.push((field, problem));
            }
        }
        if self.url.is_some_and(|u| !is_web_address(u)) {
            problems.push((Field::Url, "must start with http:// or https://".to_owned()));
        }
        if self.email.is_some_and(|e| !looks_like_email(e)) {
            problems.push((Field::Email, "not an e-mail address".to_owned()));
        }
        if let Err(problem) = languages(self.languages) {
            problems.push((Field::Languages, problem));
        }
        problems
    }
}

/// Whether `url` is a web address (`http://` or `https://`): nothing a browser would run.
pub fn is_web_address(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Whether `email` looks like an e-mail address of the social map (an `@`, no white space).
pub fn looks_like_email(email: &str) -> bool {
    email.contains('@') && !email.contains(char::is_whitespace)
}

/// A service's languages, trimmed, lower-cased, sorted and without repeats; or why not.
pub fn languages(given: &[String]) -> Result<Vec<String>, String> {
    let mut codes: Vec<String> = given.iter().map(|l| l.trim().to_lowercase()).collect();
    if codes.iter().any(|l| l.len() < 2 || l.len() > 3 || !l.chars().all(|c| c.is_ascii_lowercase())) {
        return Err("ISO 639-1 codes such as nl, fr, en".to_owned());
    }
    codes.sort();
    codes.dedup();
    if codes.len() > MAX_LANGUAGES {
        return Err(format!("at most {MAX_LANGUAGES} languages"));
    }
    Ok(codes)
}

/// Why `value` cannot be stored as a text of at most `max` characters, if it cannot: too long,
/// or holding a control character other than a line break or tab (a NUL, which PostgreSQL
/// refuses, or an escape sequence meant for someone's terminal).
pub fn text_problem(value: &str, max: usize) -> Option<String> {
    if value.chars().nth(max).is_some() {
        return Some(format!("at most {max} characters"));
    }
    value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .then(|| "must not hold control characters".to_owned())
}
