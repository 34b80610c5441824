//! Demo clients and the words of their trajectories (Dutch, as written at the desk).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use entities::{LifeDomain, RejectionReason, client};
use fastrand::Rng;
use uuid::Uuid;

const GIVEN: &[&str] = &[
    "Marie", "Jan", "Emma", "Luc", "Fatima", "Noah", "Rita", "Wim", "Elise", "Mohamed", "Griet", "Tom",
    "Nathalie", "Ahmed", "Julie", "Koen", "Lotte", "Dirk", "Yasmina", "Bart", "Émile", "Hanne", "Rudi",
    "Aylin",
];
const FAMILY: &[&str] = &[
    "Vandenbroucke",
    "Desmet",
    "Verhaeghe",
    "Claeys",
    "Vanhoutte",
    "Maes",
    "Debruyne",
    "Lambrecht",
    "Vercruysse",
    "Benali",
    "Decock",
    "Vanneste",
    "Dewaele",
    "Ollivier",
    "Mahieu",
    "Depoorter",
    "Yilmaz",
    "Bossuyt",
    "Vandamme",
    "Goethals",
];
const STREETS: &[(&str, &str, &str)] = &[
    ("Stationsstraat", "8790", "Waregem"),
    ("Holstraat", "8790", "Waregem"),
    ("Zuiderlaan", "8790", "Waregem"),
    ("Sint-Eloois-Vijve Dorp", "8793", "Waregem"),
    ("Beverenstraat", "8790", "Waregem"),
    ("Noordstraat", "8800", "Roeselare"),
    ("Brugsesteenweg", "8800", "Roeselare"),
    ("Doorniksewijk", "8500", "Kortrijk"),
    ("Gentsesteenweg", "8530", "Harelbeke"),
    ("Kortrijkseweg", "8790", "Waregem"),
];
const LANGUAGES: &[&str] = &["nl", "nl", "nl", "fr", "en", "ar", "tr"];

pub const CHANNELS: &[&str] = &["DESK", "DESK", "PHONE", "EMAIL", "OUTREACH", "PARTNER_OFFICE_HOUR"];

/// The `n`-th demo client, registered at the desk some time in the past six months.
pub fn client(rng: &mut Rng, n: usize, registered_by: Uuid, now: DateTime<Utc>) -> client::Model {
    let given = GIVEN[(n * 5 + 3) % GIVEN.len()];
    let family = FAMILY[(n * 7 + n / 4) % FAMILY.len()];
    let born =
        NaiveDate::from_ymd_opt(1940 + rng.i32(0..66), rng.u32(1..=12), rng.u32(1..=28)).unwrap_or_default();
    let (street, postcode, municipality) = STREETS[rng.usize(..STREETS.len())];
    let registered = now - Duration::days(rng.i64(5..182)) - Duration::hours(rng.i64(0..8));
    let mail_name = super::people::ascii(&format!("{given}.{family}")).to_lowercase();
    client::Model {
        id: super::id(rng),
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: Some(born),
        // Every fifth client has not shown an identity card yet.
        national_register_number: (n % 5 != 4)
            .then(|| super::national_number(born, 2 + (n as u16 * 2 + born.day() as u16) % 990)),
        street: Some(format!("{street} {}", 1 + rng.u32(0..180))),
        postcode: Some(postcode.into()),
        municipality: Some(municipality.into()),
        phone: Some(format!(
            "+32 4{:02} {:02} {:02} {:02}",
            rng.u8(70..100),
            rng.u8(..100),
            rng.u8(..100),
            rng.u8(..100)
        )),
        email: (n % 3 != 1).then(|| format!("{mail_name}{n}@voorbeeld.be")),
        preferred_language: Some(LANGUAGES[n % LANGUAGES.len()].into()),
        created_by: Some(registered_by),
        erased_at: None,
        legal_hold_at: None,
        legal_hold_reason: None,
        created_at: registered,
        updated_at: registered,
    }
}

/// Drops accents for an e-mail address.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'É' | 'È' | 'Ë' => 'E',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            c => c,
        })
        .collect()
}

/// One to three life domains for a help request.
pub fn domains(rng: &mut Rng) -> Vec<LifeDomain> {
    let mut domains = Vec::new();
    for _ in 0..1 + rng.usize(..3) {
        let domain = LifeDomain::ALL[rng.usize(..LifeDomain::ALL.len())];
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    domains
}

pub fn domain_label(domain: LifeDomain) -> &'static str {
    match domain {
        LifeDomain::Housing => "wonen",
        LifeDomain::Finances => "financiën",
        LifeDomain::FamilyAndFriends => "gezin en relaties",
        LifeDomain::Children => "kinderen",
        LifeDomain::Work => "werk",
        LifeDomain::Mobility => "mobiliteit",
        LifeDomain::PhysicalHealth => "fysieke gezondheid",
        LifeDomain::MentalHealth => "psychisch welzijn",
        LifeDomain::AdministrationAndRights => "administratie en rechten",
        LifeDomain::Participation => "participatie",
    }
}

fn situation(domain: LifeDomain) -> &'static str {
    match domain {
        LifeDomain::Housing => "huurachterstal en dreigende uithuiszetting",
        LifeDomain::Finances => "openstaande facturen en een afbetalingsplan dat niet meer lukt",
        LifeDomain::FamilyAndFriends => "spanningen thuis na een scheiding",
        LifeDomain::Children => "zorgen over de opvoeding en de opvang van de kinderen",
        LifeDomain::Work => "zelfstandige zaak die het moeilijk heeft",
        LifeDomain::Mobility => "geen vervoer naar medische afspraken",
        LifeDomain::PhysicalHealth => "langdurig ziek en hoge medische kosten",
        LifeDomain::MentalHealth => "voelt zich eenzaam en somber",
        LifeDomain::AdministrationAndRights => "vragen over pensioen en rechten op toeslagen",
        LifeDomain::Participation => "wil Nederlands leren en mensen ontmoeten",
    }
}

/// The desk's summary of a help request.
pub fn summary(rng: &mut Rng, domains: &[LifeDomain]) -> String {
    let parts: Vec<&str> = domains.iter().map(|&d| situation(d)).collect();
    let opening = ["Cliënt meldt", "Aanmelding aan het onthaal:", "Vraag via de buurtwerker:"];
    format!("{} {}.", opening[rng.usize(..opening.len())], parts.join("; "))
}

/// Why the welfare house refers a client in a life domain.
pub fn reason(domain: LifeDomain) -> &'static str {
    match domain {
        LifeDomain::Housing => "Zoekt dringend een betaalbare woning; huidige huurovereenkomst loopt af.",
        LifeDomain::Finances => "Heeft hulp nodig bij het ordenen van schulden en het aanvragen van rechten.",
        LifeDomain::FamilyAndFriends => "Vraagt begeleiding bij conflicten in het gezin.",
        LifeDomain::Children => "Ouder vraagt ondersteuning bij de opvoeding.",
        LifeDomain::Work => "Zelfstandige met betalingsproblemen, overweegt te stoppen.",
        LifeDomain::Mobility => "Kan medische afspraken niet bereiken.",
        LifeDomain::PhysicalHealth => "Hoge zorgkosten, vraagt naar tegemoetkomingen.",
        LifeDomain::MentalHealth => "Psychisch kwetsbaar, heeft nood aan een vast aanspreekpunt.",
        LifeDomain::AdministrationAndRights => {
            "Wil weten op welk pensioen en welke toeslagen hij of zij recht heeft."
        }
        LifeDomain::Participation => "Wil deelnemen aan activiteiten in de buurt.",
    }
}

pub const OUTCOMES: &[&str] = &[
    "Afbetalingsplan opgesteld en aanvaard door de schuldeisers; verdere opvolging niet nodig.",
    "Cliënt heeft een huurwoning gevonden via de woonclub en is verhuisd.",
    "Pensioen herberekend; IGO toegekend vanaf volgende maand.",
    "Zaak stopgezet zonder faillissement; cliënt is ingeschreven bij VDAB.",
    "Begeleiding afgerond; cliënt kan zelfstandig verder en weet ons te vinden.",
];

pub const REJECTIONS: &[(RejectionReason, &str)] = &[
    (RejectionReason::NoCapacity, "Wachtlijst van drie maanden; graag opnieuw aanmelden in het voorjaar."),
    (RejectionReason::NotEligible, "Cliënt valt buiten onze doelgroep (geen zelfstandige)."),
    (RejectionReason::ClientUnreachable, "Drie keer gebeld en een brief gestuurd, geen reactie."),
    (RejectionReason::ClientDeclined, "Cliënt wil op dit moment geen begeleiding."),
    (RejectionReason::Other, "Vraag wordt al opgevolgd door een andere dienst."),
];

pub const CASE_NOTES: &[&str] = &[
    "Eerste gesprek: situatie in kaart gebracht, documenten gevraagd.",
    "Huisbezoek gedaan; dringende nood aan voedselhulp, doorverwezen naar de sociale kruidenier.",
    "Cliënt is ongerust over de brieven van de deurwaarder; samen overzicht gemaakt.",
    "Afspraak gemaakt voor de zitdag van de pensioendienst.",
];
