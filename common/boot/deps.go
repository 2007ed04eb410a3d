package boot

import (
	"fmt"
	"strings"
)

// Dep is one dependency a service's New needs, and whether it was left out.
type Dep struct {
	Name    string
	Missing bool
}

// RequireDeps is the error naming every dependency left out, or nil: a
// service refuses to be built without what it cannot run without, and says
// all of it at once.
func RequireDeps(service string, deps ...Dep) error {
	var missing []string
	for _, d := range deps {
		if d.Missing {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing dependencies [%s]", service, strings.Join(missing, " "))
	}
	return nil
}
