# zktx release gate: every finding that blocks a release adds one
# {"rule", "reason"} object to `deny`. A rule names one finding (one
# advisory, one package's licence, one ban or source error), so a waiver
# lifts that finding only, never a whole class. The input is built by
# `zktx supply-chain check` from the CycloneDX SBOM and the cargo-deny scan
# (docs/supply-chain.md); `data` comes from data.json beside this file.
package zktx.supply_chain

# A component is allowed when one of its licence choices (the expression in
# disjunctive normal form: OR of ANDs) has every licence on the allow-list.
# A component without a licence, or whose expression did not parse, has no
# choice, so it is refused (fail-closed).
licence_allowed(component) if {
	some choice in component.licence_choices
	count(choice) > 0
	every licence in choice {
		licence in data.licences.allow
	}
}

deny contains {
	"rule": sprintf("licence:%s@%s", [c.name, c.version]),
	"reason": sprintf("%s %s is licensed `%s`, and no choice in it is on the allow-list (data.licences.allow)", [c.name, c.version, c.licence_expression]),
} if {
	some c in input.components
	not licence_allowed(c)
}

# Vulnerabilities at a blocking severity. A vulnerability without a CVSS
# score has severity "unknown", which blocks too: an unscored flaw is not
# known to be harmless.
deny contains {
	"rule": sprintf("advisory:%s", [a.id]),
	"reason": sprintf("%s: %s %s has a %s vulnerability (%s): %s", [a.id, a["package"], a.version, a.severity, a.cvss_or_none, a.title]),
} if {
	some a in input.advisories
	a.kind == "vulnerability"
	a.severity in data.advisories.block_severities
}

# cargo-deny's own errors about bans and sources (a crate from an unknown
# registry or git repository, a banned crate).
deny contains {
	"rule": sprintf("%s:%s", [p.check, p.subject]),
	"reason": sprintf("cargo-deny %s check: %s", [p.check, p.message]),
} if {
	some p in input.problems
}

decision := {"denials": deny}
