package infracheck

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// imagePin is the one tag a third-party image may have, and why that one.
type imagePin struct {
	Tag, Why string
}

// thirdPartyImages names every image we do not build, in the manifests and
// in the Dockerfiles, with its pin. Digests cannot be looked up offline here,
// so each is pinned to its newest patch release; bump them here and where
// they are used together.
func thirdPartyImages() map[string]imagePin {
	return map[string]imagePin{
		"mongo":          {"7.0.40", "newest 7.0 patch (Aug 2026): after the unauthenticated memory disclosure CVE-2025-14847 (fixed in 7.0.28) and the 2026 advisories"},
		"nats-streaming": {"0.25.6", "the last release: NATS Streaming is end of life"},
		// Only with components/jetstream, in nats-streaming's place.
		"nats":  {"2.15.3", "newest 2.x patch; the JetStream bus (components/jetstream)"},
		"redis": {"7.4.9", "newest 7.4 patch (May 2026): after CVE-2025-49844 (7.4.6) and the 2026 advisories"},
		// The databases' backups upload with it (base/mongo/backup.yaml).
		"amazon/aws-cli": {"2.38.4", "newest 2.x release found (Oct 2026); the S3 client for DigitalOcean Spaces"},
		"node":           {"26.13.0-slim", "Node.js 26 'Lithium', the LTS line since Oct 2026"},
		"golang":         {"1.26.8", "build stage only; the Go the project is tested with"},
		// distroless publishes no versioned tags; nonroot follows Debian 12's
		// security updates, which is what we want of a base with no shell.
		"gcr.io/distroless/static-debian12": {"nonroot", "no versioned tags exist"},
	}
}

// imagePinProblems: every third-party image in the rendering and in the
// Dockerfiles is one thirdPartyImages names, at exactly its pin, and the
// table names nothing that is no longer used.
func imagePinProblems(root string, r *rendering) []error {
	pins := thirdPartyImages()
	var problems []error
	used := map[string]bool{}
	check := func(where, image string) {
		name, tag, digest := splitImage(image)
		base := name[strings.LastIndex(name, "/")+1:]
		if slices.Contains(ownImages(), base) && (strings.HasPrefix(name, "ticketing/") || strings.HasPrefix(name, doRegistry)) {
			return
		}
		pin, ok := pins[name]
		switch {
		case !ok:
			problems = append(problems, problemf("%s: image %s: a third-party image not named in thirdPartyImages (tools/infracheck/imagepins_test.go)", where, image))
		case tag != pin.Tag || digest != "":
			problems = append(problems, problemf("%s: image %s: pinned to %s:%s (%s)", where, image, name, pin.Tag, pin.Why))
		}
		used[name] = true
	}
	for _, w := range r.workloads() {
		spec := w.Template.Spec
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			check(r.Target.Name+": "+w.String()+" container "+c.Name, c.Image)
		}
	}
	dockerfiles, _ := filepath.Glob(filepath.Join(root, "services", "*", "Dockerfile"))
	dockerfiles = append(dockerfiles, filepath.Join(root, "client", "Dockerfile"))
	for _, p := range dockerfiles {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		df, err := parseDockerfile(p)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		var stages []string
		for _, st := range df.stages {
			if !slices.Contains(stages, st.base) {
				rel, _ := filepath.Rel(root, p)
				check(rel, st.base)
			}
			stages = append(stages, st.name)
		}
	}
	var stale []string
	// A rendering runs one of the two buses, as components/jetstream picks.
	buses := []string{"nats-streaming", "nats"}
	busUsed := slices.ContainsFunc(buses, func(n string) bool { return used[n] })
	for name := range pins {
		if !used[name] && !(busUsed && slices.Contains(buses, name)) {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		problems = append(problems, problemf("%s: thirdPartyImages names %s, which nothing uses", r.Target.Name, name))
	}
	return problems
}
