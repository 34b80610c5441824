//! The identifiers the social map shows in HSDS, and its own taxonomies.
//!
//! HSDS 3.0 wants every record's `id` to be a UUID. A service, organisation or location shows
//! the HSDS id it was imported under when that is a UUID, and otherwise its own row id (so a
//! demo entry imported as `demo-service-32` shows its row's UUID): stable across exports, and
//! an import matches a record by either. The rows HSDS nests without keeping an id of their own
//! here (languages, attributes, phones, addresses, schedules) get a name-based UUID (v5) made
//! from their parent's id and what they hold: the same content gives the same id in every
//! export and in every database the map was imported into.

use entities::LifeDomain;
use uuid::Uuid;

use super::{HsdsTaxonomy, HsdsTaxonomyTerm, LIFE_DOMAIN_VOCABULARY, LOCATION_VOCABULARY};

/// The namespace of the social map's name-based UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x5b0e_6a5e_8f1c_4f0a_9d2e_77a1_c0de_2026);

/// A name-based UUID for `parts`, joined (each part's length first, so no two lists collide).
pub fn derived(parts: &[&str]) -> Uuid {
    let mut name = String::new();
    for part in parts {
        name.push_str(&part.len().to_string());
        name.push(':');
        name.push_str(part);
    }
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The id a row shows: its HSDS id when that is a UUID (lower case, hyphenated), else its own.
pub fn shown(hsds_id: Option<&str>, row: Uuid) -> Uuid {
    hsds_id.and_then(|id| Uuid::try_parse(id).ok()).unwrap_or(row)
}

/// An HSDS id as a UUID, when it is one.
pub fn as_uuid(id: &str) -> Option<Uuid> {
    Uuid::try_parse(id).ok()
}

/// The life-domain taxonomy.
pub fn life_domain_taxonomy() -> HsdsTaxonomy {
    HsdsTaxonomy {
        id: derived(&["taxonomy", LIFE_DOMAIN_VOCABULARY]).to_string(),
        name: LIFE_DOMAIN_VOCABULARY.to_owned(),
        description: "De levensdomeinen van het Welzijnshuis: waar een welzijnsvraag over gaat \
                      (the life domains of a welfare question)."
            .to_owned(),
        version: Some("1".to_owned()),
    }
}

/// The taxonomy that marks a confidential location.
pub fn location_taxonomy() -> HsdsTaxonomy {
    HsdsTaxonomy {
        id: derived(&["taxonomy", LOCATION_VOCABULARY]).to_string(),
        name: LOCATION_VOCABULARY.to_owned(),
        description: "Kenmerken van een locatie op de sociale kaart (properties of a location).".to_owned(),
        version: Some("1".to_owned()),
    }
}

/// The term id of a life domain.
pub fn life_domain_term_id(domain: LifeDomain) -> Uuid {
    derived(&["taxonomy_term", LIFE_DOMAIN_VOCABULARY, domain.as_str()])
}

/// A life domain as a taxonomy term of its own taxonomy.
pub fn life_domain_term(domain: LifeDomain) -> HsdsTaxonomyTerm {
    let (name, description) = life_domain_words(domain);
    let taxonomy = life_domain_taxonomy();
    HsdsTaxonomyTerm {
        id: life_domain_term_id(domain).to_string(),
        code: domain.as_str().to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        taxonomy: Some(taxonomy.name.clone()),
        taxonomy_id: Some(taxonomy.id.clone()),
        taxonomy_detail: Some(taxonomy),
        vocabulary: None,
    }
}

/// The term that marks a confidential location.
pub fn confidential_term() -> HsdsTaxonomyTerm {
    let taxonomy = location_taxonomy();
    HsdsTaxonomyTerm {
        id: derived(&["taxonomy_term", LOCATION_VOCABULARY, "CONFIDENTIAL"]).to_string(),
        code: "CONFIDENTIAL".to_owned(),
        name: "Vertrouwelijk adres".to_owned(),
        description: "Het adres wordt niet publiek getoond (een vluchthuis, bijvoorbeeld); \
                      the address is not shown to the public."
            .to_owned(),
        taxonomy: Some(taxonomy.name.clone()),
        taxonomy_id: Some(taxonomy.id.clone()),
        taxonomy_detail: Some(taxonomy),
        vocabulary: None,
    }
}

/// The life domain a term id names, if any.
pub fn life_domain_of_term_id(id: &str) -> Option<LifeDomain> {
    let id = as_uuid(id)?;
    LifeDomain::ALL.iter().copied().find(|&d| life_domain_term_id(d) == id)
}

/// A life domain's name and description, in Dutch as the house says it.
pub fn life_domain_words(domain: LifeDomain) -> (&'static str, &'static str) {
    match domain {
        LifeDomain::Housing => {
            ("Wonen", "Een woning vinden en houden: huur, sociale huisvesting, woonkwaliteit.")
        }
        LifeDomain::Finances => ("Financiën", "Inkomen, budget, schulden, premies en tegemoetkomingen."),
        LifeDomain::FamilyAndFriends => {
            ("Gezin en relaties", "Partner, familie, vrienden en het netwerk rond iemand.")
        }
        LifeDomain::Children => {
            ("Kinderen", "Opvoeding, kinderopvang en ondersteuning van kinderen en jongeren.")
        }
        LifeDomain::Work => ("Werk", "Werk zoeken en houden, opleiding, zelfstandig ondernemen."),
        LifeDomain::Mobility => ("Mobiliteit", "Zich verplaatsen: vervoer, rijbewijs, aangepast vervoer."),
        LifeDomain::PhysicalHealth => ("Lichamelijke gezondheid", "Zorg, ziekte, handicap en verzekering."),
        LifeDomain::MentalHealth => {
            ("Geestelijke gezondheid", "Psychisch welzijn, verslaving en begeleiding.")
        }
        LifeDomain::AdministrationAndRights => {
            ("Administratie en rechten", "Papieren, sociale rechten, juridische vragen en pensioen.")
        }
        LifeDomain::Participation => ("Participatie", "Meedoen: vrije tijd, vrijwilligerswerk, ontmoeting."),
    }
}

/// The Belgian province of a postcode (`""` when it is not a Belgian postcode).
pub fn province(postcode: &str) -> &'static str {
    let Ok(code) = postcode.trim().parse::<u32>() else { return "" };
    match code {
        1000..=1299 => "Brussels Hoofdstedelijk Gewest",
        1300..=1499 => "Waals-Brabant",
        1500..=1999 | 3000..=3499 => "Vlaams-Brabant",
        2000..=2999 => "Antwerpen",
        3500..=3999 => "Limburg",
        4000..=4999 => "Luik",
        5000..=5999 => "Namen",
        6000..=6599 | 7000..=7999 => "Henegouwen",
        6600..=6999 => "Luxemburg",
        8000..=8999 => "West-Vlaanderen",
        9000..=9999 => "Oost-Vlaanderen",
        _ => "",
    }
}
