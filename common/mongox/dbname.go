package mongox

import (
	"fmt"

	"go.mongodb.org/mongo-driver/x/mongo/driver/connstring"
)

// DatabaseName is the database a service's MONGO_URI names in its path
// (mongodb://host/auth), or fallback when the path is empty.
func DatabaseName(uri, fallback string) (string, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return "", fmt.Errorf("parse mongo uri: %w", err)
	}
	if cs.Database == "" {
		return fallback, nil
	}
	return cs.Database, nil
}
