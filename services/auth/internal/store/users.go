// Package store keeps the auth service's users in MongoDB.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/ticketing/common/mongox"
	"github.com/ticketing/services/auth/internal/user"
)

// Users is the users collection.
type Users struct {
	coll *mongo.Collection
}

type userDoc struct {
	ID        primitive.ObjectID `bson:"_id"`
	Email     string             `bson:"email"`
	Password  string             `bson:"password"`
	CreatedAt time.Time          `bson:"createdAt"`
}

// NewUsers uses the "users" collection of db.
func NewUsers(db *mongo.Database) *Users { return &Users{coll: db.Collection("users")} }

// EnsureIndexes creates the unique email index that makes sign-up race-free.
func (s *Users) EnsureIndexes(ctx context.Context) error {
	return mongox.EnsureIndexes(ctx, s.coll, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetName("email_unique").SetUnique(true),
	})
}

// Insert stores a new user; a taken email is user.ErrEmailInUse.
func (s *Users) Insert(ctx context.Context, email, passwordHash string) (string, error) {
	doc := userDoc{ID: primitive.NewObjectID(), Email: email, Password: passwordHash, CreatedAt: time.Now().UTC()}
	if _, err := s.coll.InsertOne(ctx, doc); err != nil {
		if mongox.IsDuplicateKey(err) {
			return "", user.ErrEmailInUse
		}
		return "", fmt.Errorf("insert user: %w", err)
	}
	return doc.ID.Hex(), nil
}

// FindByEmail returns user.ErrNoSuchUser for an unknown email.
func (s *Users) FindByEmail(ctx context.Context, email string) (user.User, error) {
	var doc userDoc
	err := s.coll.FindOne(ctx, bson.M{"email": email}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return user.User{}, user.ErrNoSuchUser
	}
	if err != nil {
		return user.User{}, fmt.Errorf("find user by email: %w", err)
	}
	return user.User{ID: doc.ID.Hex(), Email: doc.Email, PasswordHash: doc.Password}, nil
}
