use chrono::NaiveDate;
use resolvers::national_number::NationalRegisterNumber as Nrn;

#[test]
fn a_number_born_before_2000_checks_against_the_nine_digits() {
    // 85.07.30-033: 850730033 mod 97 = 69, check 97 - 69 = 28.
    assert!(Nrn::parse("85073003328").is_ok());
    assert!(Nrn::parse("85.07.30-033.28").is_ok());
    assert_eq!(Nrn::parse("85073003329"), Err("check digits do not match"));
}

#[test]
fn a_number_born_from_2000_checks_with_a_leading_two() {
    // 2000000000 + 010203123 = 2010203123; mod 97 = 52, check 45.
    let body: u64 = 2_010_203_123;
    let check = 97 - body % 97;
    let number = format!("010203123{check:02}");
    assert!(Nrn::parse(&number).is_ok());
    // The same digits with the pre-2000 check are a different (also valid) birth in 1901.
    let old_check = 97 - 10_203_123 % 97;
    assert_ne!(check, old_check);
}

#[test]
fn generated_numbers_pass_the_check() {
    for (y, m, d) in [(1940, 1, 1), (1999, 12, 31), (2000, 1, 1), (2007, 6, 15)] {
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        let number = Nrn::for_birth(date, 42);
        assert_eq!(number.as_str().len(), 11);
        assert!(Nrn::parse(number.as_str()).is_ok(), "{number:?} for {date}");
    }
}

#[test]
fn malformed_numbers_are_refused() {
    for bad in ["", "123", "8507300332", "850730033288", "85O73003328", "abcdefghijk"] {
        assert!(Nrn::parse(bad).is_err(), "{bad} should be refused");
    }
}
