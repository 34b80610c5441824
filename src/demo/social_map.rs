//! The demo social map: organisations, locations and services of the Waregem / Roeselare /
//! Kortrijk region. Names and descriptions are in Dutch, as the desk uses them; addresses and
//! phone numbers are illustrative.

use entities::{LifeDomain as D, OrganisationKind as K};

pub struct Org {
    pub key: &'static str,
    pub name: &'static str,
    pub kind: K,
    pub partner: bool,
    pub description: &'static str,
    pub url: &'static str,
    pub phone: &'static str,
}

pub struct Place {
    pub key: &'static str,
    pub org: &'static str,
    pub name: &'static str,
    pub street: &'static str,
    pub postcode: &'static str,
    pub municipality: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub confidential: bool,
}

pub struct Svc {
    pub org: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub domains: &'static [D],
    pub languages: &'static [&'static str],
    pub places: &'static [&'static str],
    /// Weekly hours as `days HH:MM-HH:MM` joined by `;`, days as `1-5` or `2,4` (ISO weekdays).
    pub hours: &'static str,
    pub eligibility: &'static str,
    pub fees: &'static str,
}

pub const WELFARE_HOUSE: &str = "welzijnshuis";

#[rustfmt::skip]
pub const ORGS: &[Org] = &[
    Org { key: WELFARE_HOUSE, name: "Welzijnshuis Waregem", kind: K::WelfareHouse, partner: true, description: "Eén loket voor alle welzijnsvragen van inwoners van Waregem: onthaal, maatschappelijk werk en doorverwijzing naar de partners die zitdagen houden in het huis.", url: "https://www.waregem.be/welzijnshuis", phone: "056 62 13 00" },
    Org { key: "caw", name: "CAW Zuid-West-Vlaanderen", kind: K::Caw, partner: true, description: "Centrum Algemeen Welzijnswerk: gratis hulp bij relatie- en gezinsproblemen, dakloosheid, geweld, schulden en juridische vragen.", url: "https://www.caw.be", phone: "078 15 03 00" },
    Org { key: "pension", name: "Federale Pensioendienst", kind: K::PensionService, partner: true, description: "Berekent en betaalt de pensioenen en de inkomensgarantie voor ouderen (IGO); zitdagen in het Welzijnshuis.", url: "https://www.sfpd.fgov.be", phone: "1765" },
    Org { key: "dyzo", name: "dyzo", kind: K::Dyzo, partner: true, description: "Gratis en discrete ondersteuning voor zelfstandigen en ondernemers in moeilijkheden, en voor wie stopt of herstart.", url: "https://www.dyzo.be", phone: "0800 94 210" },
    Org { key: "woonclub", name: "Woonclub Waregem", kind: K::Housing, partner: true, description: "Samen op zoek naar een betaalbare woning: wekelijkse woonclub met begeleiding bij zoeken, bellen en bezoeken.", url: "https://www.waregem.be/woonclub", phone: "056 62 13 40" },
    Org { key: "cm", name: "CM Midden-Vlaanderen", kind: K::Health, partner: false, description: "Ziekenfonds met dienst maatschappelijk werk, thuiszorgadvies en terugbetalingen.", url: "https://www.cm.be", phone: "056 23 10 00" },
    Org { key: "solidaris", name: "Solidaris West-Vlaanderen", kind: K::Health, partner: false, description: "Socialistisch ziekenfonds met sociale dienst en thuiszorg.", url: "https://www.solidaris-vlaanderen.be", phone: "056 23 04 00" },
    Org { key: "vdab", name: "VDAB Waregem", kind: K::Other, partner: false, description: "Vlaamse Dienst voor Arbeidsbemiddeling: vacatures, opleidingen en loopbaanbegeleiding.", url: "https://www.vdab.be", phone: "0800 30 700" },
    Org { key: "opgroeien", name: "Huis van het Kind Waregem", kind: K::Other, partner: false, description: "Consultatiebureau, opvoedingsondersteuning en ontmoeting voor gezinnen met kinderen en jongeren.", url: "https://www.huisvanhetkindwaregem.be", phone: "056 62 13 60" },
    Org { key: "cgg", name: "CGG Mandel en Leie", kind: K::Health, partner: false, description: "Centrum voor Geestelijke Gezondheidszorg: ambulante hulp bij psychische problemen voor kinderen, volwassenen en ouderen.", url: "https://www.cggmandelenleie.be", phone: "056 22 00 26" },
    Org { key: "tele-onthaal", name: "Tele-Onthaal West-Vlaanderen", kind: K::Other, partner: false, description: "Dag en nacht anoniem een luisterend oor, via telefoon en chat.", url: "https://www.tele-onthaal.be", phone: "106" },
    Org { key: "woonmaatschappij", name: "Woonmaatschappij Leieland", kind: K::Housing, partner: false, description: "Sociale huur- en koopwoningen in de regio Waregem, Kortrijk en Roeselare.", url: "https://www.woonmaatschappijleieland.be", phone: "056 60 25 00" },
    Org { key: "svk", name: "Sociaal Verhuurkantoor Zuid-West-Vlaanderen", kind: K::Housing, partner: false, description: "Huurt woningen op de private markt en verhuurt ze betaalbaar aan wie het moeilijk heeft op de woonmarkt.", url: "https://www.svkzuidwestvlaanderen.be", phone: "056 24 95 70" },
    Org { key: "mmc", name: "Minder Mobielen Centrale Waregem", kind: K::Other, partner: false, description: "Vrijwilligers rijden mensen met een beperkte mobiliteit en een laag inkomen naar afspraken.", url: "https://www.waregem.be/mmc", phone: "056 62 13 70" },
    Org { key: "ligo", name: "Ligo Zuid-West-Vlaanderen", kind: K::Other, partner: false, description: "Centrum voor basiseducatie: Nederlands, rekenen, digitale vaardigheden en maatschappelijke oriëntatie.", url: "https://www.ligo.be", phone: "056 22 96 34" },
    Org { key: "juridisch", name: "Commissie voor Juridische Bijstand Kortrijk", kind: K::Other, partner: false, description: "Gratis eerstelijns juridisch advies en toegang tot een pro-Deoadvocaat.", url: "https://www.advocaat.be", phone: "056 26 94 11" },
    Org { key: "voedselbank", name: "Sociale Kruidenier De Brug", kind: K::Other, partner: false, description: "Winkel met basisproducten tegen een lage prijs voor gezinnen met een beperkt budget, op doorverwijzing.", url: "https://www.waregem.be/socialekruidenier", phone: "056 62 13 80" },
    Org { key: "huisartsen", name: "Huisartsenwachtpost Zuid-West-Vlaanderen", kind: K::Health, partner: false, description: "Huisarts van wacht tijdens het weekend en op feestdagen.", url: "https://www.1733.be", phone: "1733" },
];

#[rustfmt::skip]
pub const PLACES: &[Place] = &[
    Place { key: "wh", org: WELFARE_HOUSE, name: "Welzijnshuis Waregem", street: "Schakelstraat 2", postcode: "8790", municipality: "Waregem", lat: 50.8893, lon: 3.4270, confidential: false },
    Place { key: "caw-kortrijk", org: "caw", name: "CAW Onthaal Kortrijk", street: "President Kennedypark 1", postcode: "8500", municipality: "Kortrijk", lat: 50.8170, lon: 3.2530, confidential: false },
    Place { key: "caw-roeselare", org: "caw", name: "CAW Onthaal Roeselare", street: "Zuidstraat 25", postcode: "8800", municipality: "Roeselare", lat: 50.9440, lon: 3.1250, confidential: false },
    Place { key: "caw-shelter", org: "caw", name: "Vluchthuis", street: "(adres vertrouwelijk)", postcode: "8500", municipality: "Kortrijk", lat: 50.8300, lon: 3.2700, confidential: true },
    Place { key: "jac", org: "caw", name: "JAC Kortrijk", street: "Sint-Jansstraat 16", postcode: "8500", municipality: "Kortrijk", lat: 50.8275, lon: 3.2660, confidential: false },
    Place { key: "pension-kortrijk", org: "pension", name: "Pensioenpunt Kortrijk", street: "Bloemistenstraat 20", postcode: "8500", municipality: "Kortrijk", lat: 50.8200, lon: 3.2610, confidential: false },
    Place { key: "dyzo-kortrijk", org: "dyzo", name: "dyzo West-Vlaanderen", street: "Doorniksestraat 63", postcode: "8500", municipality: "Kortrijk", lat: 50.8240, lon: 3.2680, confidential: false },
    Place { key: "cm-waregem", org: "cm", name: "CM-kantoor Waregem", street: "Markt 20", postcode: "8790", municipality: "Waregem", lat: 50.8880, lon: 3.4250, confidential: false },
    Place { key: "cm-roeselare", org: "cm", name: "CM-kantoor Roeselare", street: "Ooststraat 60", postcode: "8800", municipality: "Roeselare", lat: 50.9460, lon: 3.1280, confidential: false },
    Place { key: "solidaris-kortrijk", org: "solidaris", name: "Solidaris Kortrijk", street: "President Kennedypark 5", postcode: "8500", municipality: "Kortrijk", lat: 50.8165, lon: 3.2545, confidential: false },
    Place { key: "vdab-waregem", org: "vdab", name: "VDAB Werkwinkel Waregem", street: "Zuiderlaan 10", postcode: "8790", municipality: "Waregem", lat: 50.8860, lon: 3.4300, confidential: false },
    Place { key: "vdab-roeselare", org: "vdab", name: "VDAB Roeselare", street: "Kwadestraat 151", postcode: "8800", municipality: "Roeselare", lat: 50.9390, lon: 3.1180, confidential: false },
    Place { key: "hvhk", org: "opgroeien", name: "Huis van het Kind", street: "Westerlaan 4", postcode: "8790", municipality: "Waregem", lat: 50.8920, lon: 3.4200, confidential: false },
    Place { key: "cgg-kortrijk", org: "cgg", name: "CGG Kortrijk", street: "Beheersstraat 58", postcode: "8500", municipality: "Kortrijk", lat: 50.8210, lon: 3.2560, confidential: false },
    Place { key: "cgg-roeselare", org: "cgg", name: "CGG Roeselare", street: "Kattenstraat 6", postcode: "8800", municipality: "Roeselare", lat: 50.9470, lon: 3.1230, confidential: false },
    Place { key: "wm-waregem", org: "woonmaatschappij", name: "Woonmaatschappij Leieland Waregem", street: "Stationsstraat 31", postcode: "8790", municipality: "Waregem", lat: 50.8870, lon: 3.4330, confidential: false },
    Place { key: "svk-kortrijk", org: "svk", name: "SVK Kortrijk", street: "Budastraat 27", postcode: "8500", municipality: "Kortrijk", lat: 50.8300, lon: 3.2630, confidential: false },
    Place { key: "ligo-kortrijk", org: "ligo", name: "Ligo Kortrijk", street: "Sint-Denijsestraat 130", postcode: "8500", municipality: "Kortrijk", lat: 50.8120, lon: 3.2680, confidential: false },
    Place { key: "justitie-kortrijk", org: "juridisch", name: "Justitiepaleis Kortrijk", street: "Burgemeester Nolfstraat 10", postcode: "8500", municipality: "Kortrijk", lat: 50.8250, lon: 3.2590, confidential: false },
    Place { key: "kruidenier", org: "voedselbank", name: "Sociale Kruidenier De Brug", street: "Holstraat 15", postcode: "8790", municipality: "Waregem", lat: 50.8850, lon: 3.4230, confidential: false },
    Place { key: "wachtpost", org: "huisartsen", name: "Wachtpost Kortrijk", street: "Wandelweg 1", postcode: "8500", municipality: "Kortrijk", lat: 50.8100, lon: 3.2800, confidential: false },
];

const NL: &[&str] = &["nl"];
const NL_FR: &[&str] = &["nl", "fr"];
const NL_EN: &[&str] = &["nl", "en"];
const NL_FR_EN: &[&str] = &["nl", "fr", "en"];
const NL_EN_AR: &[&str] = &["nl", "en", "ar"];

const OFFICE: &str = "1-5 09:00-12:00; 1,2,4 13:30-16:30";
const FREE: &str = "Gratis";

#[rustfmt::skip]
pub const SERVICES: &[Svc] = &[
    // Welzijnshuis Waregem
    Svc { org: WELFARE_HOUSE, name: "Onthaal Welzijnshuis", description: "Eén aanspreekpunt voor elke welzijnsvraag: we luisteren, zoeken samen wat je nodig hebt en verwijzen gericht door.", domains: &[D::Housing, D::Finances, D::FamilyAndFriends, D::Children, D::Work, D::Mobility, D::PhysicalHealth, D::MentalHealth, D::AdministrationAndRights, D::Participation], languages: NL_FR_EN, places: &["wh"], hours: "1-5 09:00-12:00; 1,3 13:30-17:00", eligibility: "Alle inwoners van Waregem", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "Leefloon en maatschappelijke integratie", description: "Aanvraag en opvolging van het leefloon en het geïndividualiseerd project voor maatschappelijke integratie (GPMI).", domains: &[D::Finances, D::AdministrationAndRights], languages: NL_FR, places: &["wh"], hours: OFFICE, eligibility: "Inwoners zonder of met onvoldoende inkomen", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "Budgetbegeleiding en budgetbeheer", description: "Samen je inkomsten en uitgaven op orde brengen; bij budgetbeheer beheren wij tijdelijk je rekeningen.", domains: &[D::Finances], languages: NL, places: &["wh"], hours: OFFICE, eligibility: "Op afspraak na intake", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "Schuldbemiddeling", description: "Erkende schuldbemiddeling: overzicht van je schulden, afbetalingsplannen en onderhandeling met schuldeisers.", domains: &[D::Finances, D::AdministrationAndRights], languages: NL_FR, places: &["wh"], hours: OFFICE, eligibility: "Inwoners met problematische schulden", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "Energiecel en energiesnoeiers", description: "Hulp bij energiefacturen, budgetmeters, premies en energiebesparende maatregelen in huis.", domains: &[D::Housing, D::Finances], languages: NL, places: &["wh"], hours: "2,4 09:00-12:00", eligibility: "Huishoudens met een laag inkomen", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "Digitaal steunpunt", description: "Hulp bij itsme, MyMinfin, e-mail en online formulieren, en lessen om zelf digitaal mee te kunnen.", domains: &[D::AdministrationAndRights, D::Participation], languages: NL_EN, places: &["wh"], hours: "3 13:30-16:30; 5 09:00-12:00", eligibility: "Iedereen", fees: FREE },
    Svc { org: WELFARE_HOUSE, name: "UiTPAS en vrijetijdsparticipatie", description: "Kortingen op sport, cultuur en jeugdwerk voor inwoners met een beperkt inkomen.", domains: &[D::Participation, D::Children], languages: NL_FR_EN, places: &["wh"], hours: OFFICE, eligibility: "Inwoners met recht op kansentarief", fees: "UiTPAS 5 euro, met kansentarief 1 euro" },
    Svc { org: WELFARE_HOUSE, name: "Thuiszorg en poetsdienst", description: "Gezinszorg, poetshulp, warme maaltijden aan huis en personenalarm voor wie thuis wil blijven wonen.", domains: &[D::PhysicalHealth, D::Housing], languages: NL, places: &["wh"], hours: "1-5 08:30-12:00", eligibility: "Ouderen, zieken en personen met een beperking", fees: "Volgens inkomen" },
    // CAW
    Svc { org: "caw", name: "CAW Onthaal", description: "Vrij toegankelijk onthaal voor vragen over relaties, wonen, geld, justitie en slachtofferhulp; anoniem als je wil.", domains: &[D::FamilyAndFriends, D::Housing, D::Finances, D::AdministrationAndRights, D::MentalHealth], languages: NL_FR_EN, places: &["caw-kortrijk", "caw-roeselare"], hours: "1-5 09:00-12:30; 1,3 13:30-17:00", eligibility: "Iedereen vanaf 12 jaar", fees: FREE },
    Svc { org: "caw", name: "Thuisloosheid en crisisopvang", description: "Nachtopvang, crisisverblijf en begeleiding naar een eigen woonst voor wie dakloos is of dreigt te worden.", domains: &[D::Housing, D::MentalHealth], languages: NL_FR_EN, places: &["caw-kortrijk"], hours: "1-7 00:00-24:00", eligibility: "Dak- en thuislozen", fees: FREE },
    Svc { org: "caw", name: "Vluchthuis", description: "Veilige en vertrouwelijke opvang voor slachtoffers van partnergeweld en hun kinderen.", domains: &[D::FamilyAndFriends, D::Housing, D::Children], languages: NL_FR_EN, places: &["caw-shelter"], hours: "1-7 00:00-24:00", eligibility: "Slachtoffers van intrafamiliaal geweld", fees: FREE },
    Svc { org: "caw", name: "Relatie- en gezinsbegeleiding", description: "Begeleiding bij relatieproblemen, scheiding, ouderschap na scheiding en conflicten in het gezin.", domains: &[D::FamilyAndFriends, D::Children], languages: NL, places: &["caw-kortrijk", "caw-roeselare"], hours: OFFICE, eligibility: "Koppels en gezinnen", fees: FREE },
    Svc { org: "caw", name: "Jongerenonthaal JAC", description: "Voor jongeren van 12 tot 25 met vragen over thuis, school, geld, relaties of wonen.", domains: &[D::FamilyAndFriends, D::Children, D::Housing, D::MentalHealth], languages: NL_EN, places: &["jac"], hours: "1-5 13:00-18:00", eligibility: "Jongeren van 12 tot 25 jaar", fees: FREE },
    Svc { org: "caw", name: "Slachtofferhulp", description: "Emotionele, praktische en juridische steun na een misdrijf, verkeersongeval of ramp.", domains: &[D::MentalHealth, D::AdministrationAndRights], languages: NL_FR, places: &["caw-kortrijk"], hours: OFFICE, eligibility: "Slachtoffers en nabestaanden", fees: FREE },
    Svc { org: "caw", name: "Begeleid wonen CAW", description: "Woonbegeleiding aan huis om je woning te behouden: huur betalen, huishouden, contact met de verhuurder.", domains: &[D::Housing, D::Finances], languages: NL, places: &["caw-kortrijk", "caw-roeselare"], hours: OFFICE, eligibility: "Op doorverwijzing", fees: FREE },
    // Federale Pensioendienst
    Svc { org: "pension", name: "Pensioenzitdag", description: "Persoonlijk gesprek over je pensioenberekening, pensioendatum en aanvraag, ook in het Welzijnshuis.", domains: &[D::Finances, D::AdministrationAndRights], languages: NL_FR, places: &["pension-kortrijk", "wh"], hours: "2 09:00-12:00", eligibility: "Iedereen vanaf 55 jaar", fees: FREE },
    Svc { org: "pension", name: "Inkomensgarantie voor ouderen (IGO)", description: "Onderzoek en aanvraag van de inkomensgarantie voor 65-plussers met een laag inkomen.", domains: &[D::Finances], languages: NL_FR, places: &["pension-kortrijk"], hours: "1-5 09:00-12:00", eligibility: "65-plussers met een beperkt inkomen", fees: FREE },
    Svc { org: "pension", name: "Overlevingspensioen en overgangsuitkering", description: "Informatie en aanvraag na het overlijden van je partner.", domains: &[D::Finances, D::FamilyAndFriends], languages: NL_FR, places: &["pension-kortrijk"], hours: "1-5 09:00-12:00", eligibility: "Weduwen en weduwnaars", fees: FREE },
    // dyzo
    Svc { org: "dyzo", name: "Ondersteuning zelfstandigen in moeilijkheden", description: "Een vrijwillige begeleider met ondernemerservaring helpt je je zaak, schulden en toekomst op een rij te zetten.", domains: &[D::Work, D::Finances], languages: NL, places: &["dyzo-kortrijk", "wh"], hours: "1-5 09:00-17:00", eligibility: "Zelfstandigen en ondernemers", fees: FREE },
    Svc { org: "dyzo", name: "Stoppen en herstarten", description: "Begeleiding bij het stopzetten van je zaak, faillissement en een nieuwe start, als zelfstandige of werknemer.", domains: &[D::Work, D::AdministrationAndRights], languages: NL, places: &["dyzo-kortrijk"], hours: "1-5 09:00-17:00", eligibility: "Ondernemers die stoppen of failliet gaan", fees: FREE },
    Svc { org: "dyzo", name: "Luisterlijn voor ondernemers", description: "Anoniem je verhaal kwijt kunnen bij stress, burn-out of twijfel over je zaak.", domains: &[D::MentalHealth, D::Work], languages: NL, places: &["dyzo-kortrijk"], hours: "1-5 09:00-20:00", eligibility: "Zelfstandigen", fees: FREE },
    // Woonclub
    Svc { org: "woonclub", name: "Woonclub", description: "Wekelijks samen zoeken naar een huurwoning: zoekertjes lezen, verhuurders bellen, bezoeken voorbereiden.", domains: &[D::Housing], languages: NL_EN_AR, places: &["wh"], hours: "3 13:30-16:30", eligibility: "Woningzoekenden met een laag inkomen", fees: FREE },
    Svc { org: "woonclub", name: "Huurwaarborg en eerste huur", description: "Hulp bij het samenstellen van een huurwaarborg via het OCMW of het Huurwaarborgfonds.", domains: &[D::Housing, D::Finances], languages: NL_FR, places: &["wh"], hours: "3 09:00-12:00", eligibility: "Huurders met een beperkt inkomen", fees: FREE },
    // Ziekenfondsen
    Svc { org: "cm", name: "Dienst maatschappelijk werk CM", description: "Advies over ziekte-uitkering, zorgbudgetten, tegemoetkomingen voor personen met een handicap en thuiszorg.", domains: &[D::PhysicalHealth, D::Finances, D::AdministrationAndRights], languages: NL, places: &["cm-waregem", "cm-roeselare"], hours: "1,3,5 09:00-12:00", eligibility: "Leden van CM", fees: FREE },
    Svc { org: "cm", name: "Zorgbudget voor zwaar zorgbehoevenden", description: "Aanvraag van het maandelijkse zorgbudget van de Vlaamse sociale bescherming.", domains: &[D::PhysicalHealth, D::Finances], languages: NL, places: &["cm-waregem"], hours: "1-5 09:00-12:00", eligibility: "Zwaar zorgbehoevenden", fees: FREE },
    Svc { org: "solidaris", name: "Sociale dienst Solidaris", description: "Hulp bij arbeidsongeschiktheid, re-integratie en sociale voordelen.", domains: &[D::PhysicalHealth, D::Work, D::AdministrationAndRights], languages: NL_FR, places: &["solidaris-kortrijk"], hours: "1-5 09:00-12:00; 3 13:30-16:00", eligibility: "Leden van Solidaris", fees: FREE },
    // Werk
    Svc { org: "vdab", name: "Werkwinkel", description: "Vacatures zoeken, cv opstellen en solliciteren met hulp van een consulent.", domains: &[D::Work], languages: NL_EN, places: &["vdab-waregem", "vdab-roeselare"], hours: "1-5 09:00-12:00; 2,4 13:00-16:00", eligibility: "Werkzoekenden", fees: FREE },
    Svc { org: "vdab", name: "Opleiding Nederlands op de werkvloer", description: "Nederlands leren tijdens een opleiding of stage.", domains: &[D::Work, D::Participation], languages: NL_EN_AR, places: &["vdab-roeselare"], hours: "1-4 08:30-16:00", eligibility: "Anderstalige werkzoekenden", fees: FREE },
    Svc { org: "vdab", name: "Trajectbegeleiding arbeidszorg", description: "Begeleiding naar aangepast werk voor wie (nog) niet in het normale circuit kan werken.", domains: &[D::Work, D::MentalHealth, D::PhysicalHealth], languages: NL, places: &["vdab-waregem"], hours: OFFICE, eligibility: "Op doorverwijzing", fees: FREE },
    // Kinderen en gezin
    Svc { org: "opgroeien", name: "Consultatiebureau", description: "Gratis medische opvolging, vaccinaties en advies voor kinderen van 0 tot 3 jaar.", domains: &[D::Children, D::PhysicalHealth], languages: NL_FR_EN, places: &["hvhk"], hours: "2,4 13:30-17:00", eligibility: "Gezinnen met jonge kinderen", fees: FREE },
    Svc { org: "opgroeien", name: "Opvoedingswinkel", description: "Antwoord op vragen over opvoeden, slapen, eten, puberteit en schermgebruik.", domains: &[D::Children, D::FamilyAndFriends], languages: NL, places: &["hvhk"], hours: "3 09:00-12:00; 3 13:30-16:00", eligibility: "Ouders en opvoeders", fees: FREE },
    Svc { org: "opgroeien", name: "Speel-o-theek", description: "Speelgoed lenen en samen spelen met andere gezinnen.", domains: &[D::Children, D::Participation], languages: NL_EN_AR, places: &["hvhk"], hours: "6 10:00-12:00", eligibility: "Gezinnen met kinderen tot 12 jaar", fees: "5 euro per jaar" },
    // Geestelijke gezondheid
    Svc { org: "cgg", name: "Ambulante psychologische hulp volwassenen", description: "Diagnostiek en behandeling bij angst, depressie, trauma en verslaving.", domains: &[D::MentalHealth], languages: NL_FR, places: &["cgg-kortrijk", "cgg-roeselare"], hours: "1-5 09:00-12:00; 1-4 13:00-19:00", eligibility: "Volwassenen; na aanmelding", fees: "Maximaal 11 euro per gesprek" },
    Svc { org: "cgg", name: "Eerstelijnspsychologische zorg", description: "Enkele laagdrempelige gesprekken met een psycholoog, terugbetaald via het netwerk geestelijke gezondheid.", domains: &[D::MentalHealth], languages: NL_EN, places: &["cgg-kortrijk", "wh"], hours: "2,4 13:00-19:00", eligibility: "Iedereen", fees: "4 euro per gesprek, gratis met verhoogde tegemoetkoming" },
    Svc { org: "cgg", name: "Kinder- en jeugdpsychiatrie", description: "Hulp bij psychische problemen bij kinderen en jongeren tot 18 jaar.", domains: &[D::MentalHealth, D::Children], languages: NL, places: &["cgg-roeselare"], hours: OFFICE, eligibility: "Kinderen en jongeren", fees: "Volgens inkomen" },
    Svc { org: "tele-onthaal", name: "Tele-Onthaal 106", description: "Anoniem praten over wat je bezighoudt, dag en nacht, via telefoon of chat.", domains: &[D::MentalHealth, D::FamilyAndFriends], languages: NL, places: &[], hours: "1-7 00:00-24:00", eligibility: "Iedereen", fees: FREE },
    // Wonen
    Svc { org: "woonmaatschappij", name: "Inschrijving sociale huurwoning", description: "Inschrijven in het centraal inschrijvingsregister voor een sociale huurwoning.", domains: &[D::Housing], languages: NL_FR, places: &["wm-waregem"], hours: "1,3 09:00-12:00", eligibility: "Volgens inkomens- en eigendomsvoorwaarden", fees: FREE },
    Svc { org: "svk", name: "Huren via het SVK", description: "Betaalbaar huren op de private markt met begeleiding van het sociaal verhuurkantoor.", domains: &[D::Housing], languages: NL, places: &["svk-kortrijk"], hours: "2,4 09:00-12:00", eligibility: "Huurders met een laag inkomen", fees: FREE },
    // Mobiliteit
    Svc { org: "mmc", name: "Minder Mobielen Centrale", description: "Vervoer door vrijwilligers naar dokter, ziekenhuis, winkel of familie.", domains: &[D::Mobility, D::Participation], languages: NL, places: &["wh"], hours: "1-5 09:00-11:00", eligibility: "Minder mobiele inwoners met een laag inkomen", fees: "Lidgeld 12 euro per jaar en 0,40 euro per km" },
    Svc { org: WELFARE_HOUSE, name: "Mobiliteitsadvies en De Lijn-abonnement", description: "Advies over verplaatsingen, Mobib-kaart en korting op een abonnement van De Lijn.", domains: &[D::Mobility], languages: NL, places: &["wh"], hours: "4 09:00-12:00", eligibility: "Inwoners met verhoogde tegemoetkoming", fees: FREE },
    // Participatie, recht, voedsel, gezondheid
    Svc { org: "ligo", name: "Basiseducatie Nederlands", description: "Nederlands leren spreken, lezen en schrijven in kleine groepen.", domains: &[D::Participation, D::Work], languages: NL_EN_AR, places: &["ligo-kortrijk", "wh"], hours: "1-4 09:00-12:00; 1,3 18:30-21:00", eligibility: "Volwassenen met weinig scholing", fees: "Gratis tot 3 euro per module" },
    Svc { org: "ligo", name: "Digitale basisvaardigheden", description: "Leren werken met een smartphone, computer en online diensten.", domains: &[D::Participation, D::AdministrationAndRights], languages: NL, places: &["ligo-kortrijk"], hours: "2 13:30-16:00", eligibility: "Volwassenen", fees: FREE },
    Svc { org: "juridisch", name: "Juridische eerstelijnsbijstand", description: "Gratis eerste juridisch advies door een advocaat, en aanvraag van een pro-Deoadvocaat.", domains: &[D::AdministrationAndRights], languages: NL_FR, places: &["justitie-kortrijk", "wh"], hours: "2 17:00-19:00; 6 09:00-11:00", eligibility: "Iedereen; pro Deo volgens inkomen", fees: FREE },
    Svc { org: "voedselbank", name: "Sociale kruidenier", description: "Basisproducten, verse groenten en hygiëneproducten aan lage prijzen, op doorverwijzing van het Welzijnshuis.", domains: &[D::Finances, D::PhysicalHealth], languages: NL_FR_EN, places: &["kruidenier"], hours: "2 14:00-17:00; 5 09:00-12:00", eligibility: "Op doorverwijzing", fees: "Ongeveer de helft van de winkelprijs" },
    Svc { org: "huisartsen", name: "Huisarts van wacht", description: "Dringende medische hulp buiten de werkuren van je huisarts; bel 1733.", domains: &[D::PhysicalHealth], languages: NL_FR_EN, places: &["wachtpost"], hours: "5 19:00-24:00; 6-7 00:00-24:00; 1 00:00-08:00", eligibility: "Iedereen", fees: "Gewoon remgeld" },
];

/// Partners' office hours ("zitdagen") at the welfare house: (org, weekday, from, to, slot minutes).
#[rustfmt::skip]
pub const OFFICE_HOURS: &[(&str, i32, &str, &str, i32)] = &[
    ("caw", 2, "09:00", "12:00", 30),
    ("caw", 4, "13:30", "16:30", 30),
    ("pension", 2, "09:00", "12:00", 20),
    ("dyzo", 1, "09:00", "12:00", 45),
    ("woonclub", 3, "13:30", "16:30", 30),
];
