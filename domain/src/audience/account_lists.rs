//! Account lists for matched audiences: hashed identifiers only, with their lawful basis.

use super::*;
use AudienceEvent as E;

pub(super) fn import_account_list(
    violations: &mut Violations,
    list_id: &Uuid,
    name: &str,
    lawful_basis: &str,
    hashed_identifiers: &[String],
) -> Decision {
    let name = required_line(name, "name", NAME_MAX_CHARS, violations);
    let lawful_basis = LawfulBasis::parse(lawful_basis);
    if lawful_basis.is_none() {
        violations.push(
            "lawfulBasis",
            "required",
            "must be CONSENT, LEGITIMATE_INTEREST or CONTRACT",
        );
    }
    if hashed_identifiers.is_empty() {
        violations.push(
            "hashedIdentifiers",
            "required",
            "must list at least one identifier",
        );
    }
    if hashed_identifiers.len() > MAX_IDENTIFIERS_PER_IMPORT {
        violations.push(
            "hashedIdentifiers",
            "too_many",
            format!("at most {MAX_IDENTIFIERS_PER_IMPORT} per import; send larger lists in parts"),
        );
    }
    let bad = hashed_identifiers
        .iter()
        .enumerate()
        .filter(|(_, id)| !is_sha256_hex(id));
    for (index, _) in bad.take(MAX_REPORTED_IDENTIFIERS) {
        violations.push(
            format!("hashedIdentifiers/{index}"),
            "not_hashed",
            "must be a SHA-256 hash in lowercase hex: plain identifiers are never stored",
        );
    }
    Ok(match lawful_basis {
        Some(lawful_basis) => vec![E::AccountListImported(AccountListImported {
            list_id: *list_id,
            name,
            lawful_basis,
            identifiers: hashed_identifiers
                .iter()
                .map(|hash| PersonalValue::plain(subject_of_identifier(hash), hash.clone()))
                .collect(),
        })],
        None => vec![],
    })
}
