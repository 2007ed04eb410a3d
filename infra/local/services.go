package main

// service is one HTTP service of the fleet, run from ./bin/<name> (built by
// `make build`). Every service gets the same environment (serviceEnv), the
// one a cluster would give its pod.
type service struct {
	name string
	// port is where `up` serves it by default; --<name>-port or
	// LOCAL_<NAME>_PORT moves it, --ephemeral picks a free one.
	port int
}

// services lists the fleet in start order. Adding a service is one entry
// here and one word in the Makefile's SERVICES.
func services() []service {
	return []service{
		{name: "auth", port: 3001},
		{name: "tickets", port: 3002},
		{name: "orders", port: 3003},
		{name: "expiration", port: 3004},
		{name: "payments", port: 3005},
	}
}
