// The bills page of Query.bills and Customer.bills (graph/products.graphqls).

package graph

import (
	"coffer/graph/products"
	"context"

	"entgo.io/contrib/entgql"

	"coffer/ent"
)

// bills pages a customer's bills by due date (then id), optionally only paid or unpaid ones.
func (r *Resolver) bills(ctx context.Context, customerID int, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int], paid *bool) (*ent.BillConnection, error) {
	first, last, err := pageArgs(first, last)
	if err != nil {
		return nil, err
	}
	return products.Bills(r.Client, customerID, paid).Paginate(ctx, after, first, before, last, ent.WithBillOrder(products.ByDueDate))
}
