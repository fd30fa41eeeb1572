// The bills page of Query.bills and Customer.bills (graph/products.graphqls).

package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"coffer/ent"
	"coffer/ent/bill"
)

// bills pages a customer's bills by due date (then id), optionally only paid or unpaid ones.
func (r *Resolver) bills(ctx context.Context, customerID int, first *int, after *entgql.Cursor[int], last *int, before *entgql.Cursor[int], paid *bool) (*ent.BillConnection, error) {
	first, last, err := pageArgs(first, last)
	if err != nil {
		return nil, err
	}
	q := r.Client.Bill.Query().Where(bill.CustomerID(customerID))
	if paid != nil {
		if *paid {
			q.Where(bill.PaidAtNotNil())
		} else {
			q.Where(bill.PaidAtIsNil())
		}
	}
	return q.Paginate(ctx, after, first, before, last,
		ent.WithBillOrder(&ent.BillOrder{Direction: entgql.OrderDirectionAsc, Field: ent.BillOrderFieldDueDate}))
}
