//! Places where people pay: shopping centres, supermarkets, markets, shops, health
//! facilities and schools, each with the day it began to accept cashless payment (and, for
//! schools and health facilities, to collect fees online).

use crate::error::Invalid;

/// The kinds of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlaceKind {
    ShoppingCentre,
    Supermarket,
    Market,
    Shop,
    HealthFacility,
    School,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 6] = [
        PlaceKind::ShoppingCentre,
        PlaceKind::Supermarket,
        PlaceKind::Market,
        PlaceKind::Shop,
        PlaceKind::HealthFacility,
        PlaceKind::School,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::ShoppingCentre => "shopping_centre",
            PlaceKind::Supermarket => "supermarket",
            PlaceKind::Market => "market",
            PlaceKind::Shop => "shop",
            PlaceKind::HealthFacility => "health_facility",
            PlaceKind::School => "school",
        }
    }

    /// Parses a kind by its code or its Vietnamese name (`chợ`, `siêu thị`…), as a register
    /// lists it.
    pub fn parse(s: &str) -> Result<PlaceKind, Invalid> {
        let t = crate::text::fold(s);
        let t = t.trim();
        let by_name = match t {
            "trung tam thuong mai" => Some(PlaceKind::ShoppingCentre),
            "sieu thi" => Some(PlaceKind::Supermarket),
            "cho" => Some(PlaceKind::Market),
            "cua hang" | "co so kinh doanh" => Some(PlaceKind::Shop),
            "co so y te" | "benh vien" | "tram y te" => Some(PlaceKind::HealthFacility),
            "truong hoc" | "truong" => Some(PlaceKind::School),
            _ => None,
        };
        by_name
            .or_else(|| PlaceKind::ALL.into_iter().find(|k| k.as_str() == t))
            .ok_or_else(|| Invalid::field("place-kind-invalid", "kind").with_detail(s.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_code_or_name() {
        assert_eq!(PlaceKind::parse("market"), Ok(PlaceKind::Market));
        assert_eq!(PlaceKind::parse("Chợ"), Ok(PlaceKind::Market));
        assert_eq!(PlaceKind::parse("siêu thị"), Ok(PlaceKind::Supermarket));
        assert_eq!(PlaceKind::parse("Trung tâm thương mại"), Ok(PlaceKind::ShoppingCentre));
        assert_eq!(PlaceKind::parse("quán"), Err(Invalid::field("place-kind-invalid", "kind").with_detail("quán")));
    }
}
