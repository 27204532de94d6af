//! Pausing one ad or creative of a running campaign: which ones may be paused (deployed, still
//! serving, not the last of its group) — the rule proposals and the platform push both follow.

use super::{CampaignState, Platform};
use crate::violation::Violations;

/// The group a creative's path belongs to (`/google/adGroups/2` of `/google/adGroups/2/ads/0`),
/// if the path names an ad or creative at all.
fn group_of(path: &str) -> Option<&str> {
    let (group, index) = path.rsplit_once('/')?;
    index.parse::<usize>().ok()?;
    let group = group
        .strip_suffix("/ads")
        .or_else(|| group.strip_suffix("/creatives"))?;
    let well_placed = (group.starts_with("/google/adGroups/")
        || group.starts_with("/linkedin/campaigns/"))
        && group
            .rsplit('/')
            .next()
            .is_some_and(|i| i.parse::<usize>().is_ok());
    well_placed.then_some(group)
}

pub(super) fn check_pause(
    state: &CampaignState,
    platform: Platform,
    path: &str,
    violations: &mut Violations,
) {
    let Some(group) = group_of(path) else {
        violations.push(
            "action/path",
            "not_a_creative",
            "the path of an ad (/google/adGroups/N/ads/M) or creative (/linkedin/campaigns/N/creatives/M)",
        );
        return;
    };
    let resources = state
        .resources
        .get(&platform)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let is_creative = |kind: &str| kind == "AD" || kind == "CREATIVE";
    if !resources
        .iter()
        .any(|r| r.path == path && is_creative(&r.kind))
    {
        violations.push(
            "action/path",
            "not_deployed",
            "no deployed ad or creative of this platform is there",
        );
        return;
    }
    if state
        .paused_creatives
        .contains(&(platform, path.to_owned()))
    {
        violations.push("action/path", "already_paused", "it is paused already");
        return;
    }
    let serving = resources
        .iter()
        .filter(|r| is_creative(&r.kind) && group_of(&r.path) == Some(group))
        .filter(|r| !state.paused_creatives.contains(&(platform, r.path.clone())))
        .count();
    if serving <= 1 {
        violations.push(
            "action/path",
            "last_creative",
            "the last ad or creative serving in its group: pause the campaign instead",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::group_of;

    #[test]
    fn a_path_names_its_group_or_nothing() {
        assert_eq!(
            group_of("/google/adGroups/2/ads/0"),
            Some("/google/adGroups/2")
        );
        assert_eq!(
            group_of("/linkedin/campaigns/1/creatives/3"),
            Some("/linkedin/campaigns/1")
        );
        for bad in [
            "/google/adGroups/2",
            "/google/adGroups/x/ads/0",
            "/google/ads/0",
            "/linkedin/campaigns/1/creatives/a",
            "",
        ] {
            assert_eq!(group_of(bad), None, "{bad}");
        }
    }
}
