//! The Belgian national register number (rijksregisternummer): `YYMMDD` birth date, a 3-digit
//! serial (odd for men, even for women) and 2 check digits, `97 - (first nine digits mod 97)`.
//! For births from 2000 on, the check is computed over `2` followed by the nine digits.

use chrono::{Datelike, NaiveDate};

/// A national register number that passed its checks; the only way to get one is `parse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalRegisterNumber(String);

impl NationalRegisterNumber {
    /// Accepts 11 digits, optionally written with the usual dots, dash and spaces
    /// (`85.07.30-033.28`), and checks the check digits.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let digits: String = input.chars().filter(|c| !matches!(c, '.' | '-' | ' ')).collect();
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 11 digits");
        }
        let body: u64 = digits[..9].parse().map_err(|_| "must be 11 digits")?;
        let check: u64 = digits[9..].parse().map_err(|_| "must be 11 digits")?;
        if check == check_digits(body, false) || check == check_digits(body, true) {
            Ok(NationalRegisterNumber(digits))
        } else {
            Err("check digits do not match")
        }
    }

    /// The number for a birth date and serial (1–998), with the right check digits.
    pub fn for_birth(date: NaiveDate, serial: u16) -> Self {
        let body = (date.year() as u64 % 100) * 10_000_000
            + date.month() as u64 * 100_000
            + date.day() as u64 * 1_000
            + serial as u64 % 1000;
        let check = check_digits(body, date.year() >= 2000);
        NationalRegisterNumber(format!("{body:09}{check:02}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn check_digits(body: u64, born_from_2000: bool) -> u64 {
    let n = if born_from_2000 { 2_000_000_000 + body } else { body };
    97 - n % 97
}
