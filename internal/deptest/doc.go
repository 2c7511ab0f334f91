// Package deptest holds the project's dependency rules as a test: which packages may not import
// which, so that the layering in docs/ARCHITECTURE.md stays true without a review.
package deptest
