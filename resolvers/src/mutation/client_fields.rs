//! The rules for a client's fields, shared by every mutation that writes them (registering a
//! client, changing one): one validator per field, each naming the field it refuses.

use chrono::{NaiveDate, Utc};

use super::intake::AddressInput;
use super::text;
use crate::error::{ApiError, ApiResult};
use crate::national_number::NationalRegisterNumber;

/// An optional text field: trimmed, empty as none, at most `max` characters.
pub(super) fn optional(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(field, v, max).map(Some),
        None => Ok(None),
    }
}

/// A given or family name.
pub(super) fn name(field: &str, value: &str) -> ApiResult<String> {
    text(field, value, 100)
}

/// A date of birth between 1900 and today.
pub(super) fn date_of_birth(field: &str, born: Option<NaiveDate>) -> ApiResult<Option<NaiveDate>> {
    let today = Utc::now().date_naive();
    match born {
        Some(born) if born > today || born < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(born) => {
            Err(ApiError::bad_input(field, "must lie between 1900 and today"))
        }
        born => Ok(born),
    }
}

/// A national register number, checked (empty as none); stored as its 11 digits.
pub(super) fn national_number(field: &str, number: Option<String>) -> ApiResult<Option<String>> {
    match number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => NationalRegisterNumber::parse(n)
            .map(|n| Some(n.into_string()))
            .map_err(|why| ApiError::bad_input(field, why)),
        None => Ok(None),
    }
}

/// An e-mail address (empty as none).
pub(super) fn email(field: &str, email: Option<String>) -> ApiResult<Option<String>> {
    let email = optional(field, email, 200)?;
    if email.as_deref().is_some_and(|e| !e.contains('@') || e.contains(' ')) {
        return Err(ApiError::bad_input(field, "not an e-mail address"));
    }
    Ok(email)
}

/// A phone number (empty as none).
pub(super) fn phone(field: &str, phone: Option<String>) -> ApiResult<Option<String>> {
    let phone = optional(field, phone, 40)?;
    if phone.as_deref().is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || " +()./-".contains(c))) {
        return Err(ApiError::bad_input(field, "only digits, spaces and + ( ) . / -"));
    }
    Ok(phone)
}

/// A preferred language, as a lowercase ISO 639-1 code (empty as none).
pub(super) fn language(field: &str, language: Option<String>) -> ApiResult<Option<String>> {
    Ok(optional(field, language, 10)?.map(|l| l.to_lowercase()))
}

/// A checked postal address: street (optional), postcode, municipality.
pub(super) struct Address {
    pub street: Option<String>,
    pub postcode: String,
    pub municipality: String,
}

/// An address; `field` is the input's name for it (`input.address`).
pub(super) fn address(field: &str, address: AddressInput) -> ApiResult<Address> {
    Ok(Address {
        street: optional(&format!("{field}.street"), address.street, 200)?,
        postcode: text(&format!("{field}.postcode"), &address.postcode, 10)?,
        municipality: text(&format!("{field}.municipality"), &address.municipality, 100)?,
    })
}
