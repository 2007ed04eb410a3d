package errs

// DefaultConflictAttempts is how often a versioned change is read, decided
// and written before a run of conflicts is given up on: each conflict means
// another change to the same record went through meanwhile.
const DefaultConflictAttempts = 5

// RetryOnConflict runs try until it returns nil, an error that is neither
// ErrConflict nor one of alsoRetry, or has run attempts times; it returns
// try's last error. Each try must read afresh what it decides on: a
// conflict says the record changed after it was read, so the decision may
// now come out differently (a refusal, or nothing to do).
func RetryOnConflict(attempts int, try func() error, alsoRetry ...error) error {
	var err error
	for range max(attempts, 1) {
		// A refusal stored nothing, so trying again is safe; anything else
		// is the caller's to handle.
		if err = try(); err == nil || !Refused(err, alsoRetry...) {
			return err
		}
	}
	return err
}
