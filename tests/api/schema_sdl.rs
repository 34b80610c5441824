#[test]
fn the_committed_sdl_is_what_the_code_builds() {
    let built = schema::sdl();
    assert!(
        built == schema::COMMITTED_SDL,
        "schema/schema.graphql is out of date: run `cargo run -- schema > schema/schema.graphql`"
    );
}

#[test]
fn the_sdl_has_the_contract_essentials() {
    let sdl = schema::sdl();
    for needle in [
        "enum Role",
        "enum LifeDomain",
        "enum ConsentScope",
        "enum ReferralStatus",
        "enum RejectionReason",
        "enum OrganisationKind",
        "type ReferralConnection",
        "totalCount: Int!",
        "pageInfo: PageInfo!",
        "type Me",
        "organisations(",
        "services(",
        "clients(",
        "referrals(",
        "nationalRegisterNumber: String",
    ] {
        assert!(sdl.contains(needle), "the SDL lacks `{needle}`");
    }
}
