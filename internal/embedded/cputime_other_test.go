//go:build !unix

package embedded

import "time"

// cpuTime is not measured off unix; benchmarks then report 0.
func cpuTime() time.Duration { return 0 }
