// Command zoneplan is the defensive-zone planning service and its CLI: it
// serves the web map and the APIs (serve), manages the store (migrate, seed,
// import, export, gen), tokens and rules, and checks footprints.
//
// main only calls run; run parses the command line and environment into one
// config and wires the chosen store, index and server.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintln(os.Stderr, "zoneplan:", ex.msg)
			}
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "zoneplan:", describe(err))
		os.Exit(1)
	}
}
