//! The match score between an entrepreneur and an ally (docs/domain.md §4.7):
//! 0.3 when the ally's primary expertise is the entrepreneur's primary sector (0.2 when a
//! secondary one matches) + 0.4 × Jaccard(mentorship areas, specializations) + 0.2 when one of
//! the entrepreneur's project stages is among the ally's preferred stages + 0.1 when the ally has
//! free capacity. Each part that counts comes with a human-readable reason.

use std::collections::BTreeSet;

use crate::model::{AllyProfile, EntrepreneurProfile, ProjectStage};

/// A score in 0–1 with the reasons that made it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchScore {
    /// 0–1.
    pub score: f64,
    /// Why, one sentence per contributing part.
    pub reasons: Vec<String>,
}

fn normalized(items: &[String]) -> BTreeSet<String> {
    items
        .iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Scores `ally` for `entrepreneur`, whose open projects are at `project_stages`.
pub fn match_score(
    entrepreneur: &EntrepreneurProfile,
    project_stages: &[ProjectStage],
    ally: &AllyProfile,
    ally_has_capacity: bool,
) -> MatchScore {
    let mut score = 0.0;
    let mut reasons = Vec::new();
    let sectors: Vec<String> = entrepreneur.sectors.iter().map(|s| s.trim().to_lowercase()).collect();
    let expertise = ally.primary_expertise.as_deref().map(|s| s.trim().to_lowercase());
    let specializations = normalized(&ally.specializations);
    let primary_match = matches!((sectors.first(), &expertise), (Some(s), Some(e)) if s == e);
    if primary_match {
        score += 0.3;
        reasons.push(format!("expert in your primary sector ({})", sectors[0]));
    } else if let Some(secondary) = sectors
        .iter()
        .find(|s| expertise.as_deref() == Some(s.as_str()) || specializations.contains(*s))
    {
        score += 0.2;
        reasons.push(format!("knows your sector {secondary}"));
    }
    let areas = normalized(&entrepreneur.mentorship_areas);
    let union = areas.union(&specializations).count();
    if union > 0 {
        let common: Vec<&String> = areas.intersection(&specializations).collect();
        if !common.is_empty() {
            score += 0.4 * common.len() as f64 / union as f64;
            reasons.push(format!(
                "specializes in {}",
                common.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if let Some(stage) = project_stages.iter().find(|s| ally.preferred_stages.contains(s)) {
        score += 0.2;
        reasons.push(format!("prefers projects at the {stage} stage"));
    }
    if ally_has_capacity {
        score += 0.1;
        reasons.push("has room for new mentees".to_owned());
    }
    MatchScore {
        score: (score * 1000.0_f64).round() / 1000.0,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_of_the_domain() {
        let e = EntrepreneurProfile {
            sectors: vec!["Fintech".into(), "edtech".into()],
            mentorship_areas: vec!["fundraising".into(), "product".into()],
            ..Default::default()
        };
        let a = AllyProfile {
            primary_expertise: Some("fintech".into()),
            specializations: vec!["fundraising".into(), "sales".into(), "product".into()],
            preferred_stages: vec![ProjectStage::Prototype],
            ..Default::default()
        };
        let s = match_score(&e, &[ProjectStage::Prototype], &a, true);
        // 0.3 + 0.4 × 2/3 + 0.2 + 0.1
        assert!((s.score - 0.867).abs() < 1e-9, "{}", s.score);
        assert_eq!(s.reasons.len(), 4);
        let secondary = AllyProfile {
            primary_expertise: Some("edtech".into()),
            ..Default::default()
        };
        let s = match_score(&e, &[], &secondary, false);
        assert!((s.score - 0.2).abs() < 1e-9);
        assert_eq!(
            match_score(&EntrepreneurProfile::default(), &[], &AllyProfile::default(), false).score,
            0.0
        );
    }
}
