//! The IMDS hop limit: v1 lowers the default `metadataOptions.httpPutResponseHopLimit` from 2
//! to 1, so a v1beta1 EC2NodeClass that relies on the default gets a warning (nothing to edit:
//! the user decides between IRSA or Pod Identity and setting 2 explicitly).

use super::Level;
use super::kinds::NodeClass;
use super::planner::Planner;

impl<'a> Planner<'a> {
    pub(super) fn imds_hop_limit(&mut self, class: &NodeClass<'a>) {
        let &NodeClass {
            doc, spec, v1beta1, ..
        } = class;
        let root = &doc.root;
        if v1beta1 {
            let options = spec.get("metadataOptions");
            if options
                .and_then(|o| o.get("httpPutResponseHopLimit"))
                .is_none()
            {
                let at = spec
                    .entry("metadataOptions")
                    .map_or_else(|| root.entry("spec").map_or(root, |e| &e.key), |e| &e.key);
                self.note(
                    at,
                    Level::Warning,
                    "the default `metadataOptions.httpPutResponseHopLimit` drops from 2 to 1 in v1: \
                     pods off the host network can no longer reach instance metadata (give them IRSA \
                     or Pod Identity, or set `httpPutResponseHopLimit: 2` to keep the old behaviour)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::migrate::Level;
    use crate::migrate::testing::*;

    const CLASS: &str = "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: c}\nspec:\n  amiSelectorTerms: [{alias: al2023@v20240625}]\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n";

    fn hop_warnings(text: &str) -> Vec<(usize, usize)> {
        converted(text)
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning && n.message.contains("httpPutResponseHopLimit"))
            .map(|n| (n.line, n.column))
            .collect()
    }

    #[test]
    fn relying_on_the_old_default_is_a_warning_where_it_would_be_set() {
        // No metadataOptions: at `spec`.
        assert_eq!(hop_warnings(CLASS), [(4, 1)]);
        // metadataOptions without the hop limit: at `metadataOptions`.
        let text = format!("{CLASS}  metadataOptions: {{httpTokens: required}}\n");
        assert_eq!(hop_warnings(&text), [(9, 3)]);
        // Set explicitly: nothing changes, nothing to say.
        let text = format!("{CLASS}  metadataOptions: {{httpPutResponseHopLimit: 2}}\n");
        assert_eq!(hop_warnings(&text), []);
    }
}
