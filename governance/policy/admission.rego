# zktx admission policy: every rule that refuses a request adds one
# {"rule", "reason"} object to `deny`. The gate reads `decision` and allows
# a request only when no denial is left after waivers. The input schema is
# in docs/governance.md; `data` comes from data.json beside this file.
package zktx.admission

# Outside dev (where the sandbox pilot proves bounds up to the tier on purpose).
deny contains {
	"rule": "trivial-bound",
	"reason": sprintf("k = %d is not below the tier (%d slots per side): a bound at or above the set size is always true and proves nothing", [input.k, input.tier]),
} if {
	input.profile != "dev"
	input.k >= input.tier
}

deny contains {
	"rule": "dev-keys-in-prod",
	"reason": "the prod profile does not accept development keys (derived from a public seed, so anyone can forge proofs): import keys from a setup ceremony",
} if {
	input.profile == "prod"
	input.key_origin == "dev-seed"
}

deny contains {
	"rule": "single-party-keys-in-prod",
	"reason": "the prod profile does not accept single-party keys (whoever ran the setup could forge proofs): import keys from a setup ceremony, or ask for a waiver",
} if {
	input.profile == "prod"
	input.key_origin == "single-party"
}

deny contains {
	"rule": "method-not-in-plan",
	"reason": sprintf("plan %s does not include %s calls: use %s, or move to a plan that has them", [input.plan, input.method, concat(" or ", data.plans[input.plan].methods)]),
} if {
	allowed := data.plans[input.plan].methods
	not input.method in allowed
}

decision := {"denials": deny}
