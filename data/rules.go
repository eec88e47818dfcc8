package data

import "embed"

//go:embed rules/*.yaml
var ruleFiles embed.FS

// DefaultRulesFile is the embedded default conflict rule set, relative to
// this folder.
const DefaultRulesFile = "rules/default.yaml"

// DefaultRules returns the default conflict rule set document (YAML) as
// shipped; internal/rules parses and validates it.
func DefaultRules() []byte {
	b, err := ruleFiles.ReadFile(DefaultRulesFile)
	if err != nil {
		// The file is embedded at build time; its absence is a build bug.
		panic("data: embedded file missing: " + DefaultRulesFile)
	}
	return b
}
