# Online payments: checkout, the return from the gateway, a second try.
payment-choose-gateway = Pay through:
payment-gateway-sslcommerz = SSLCommerz (cards, mobile banking)
payment-gateway-bkash = bKash
payment-pay-now = Pay now
payment-paid-title = Payment received
payment-paid-text = Thank you: the gateway confirmed your payment. Your order is paid.
payment-pending-title = Payment being checked
payment-pending-text = We have not had the gateway's confirmation yet. Your order page will show it as soon as it arrives; you need not pay again.
payment-failed-title = Payment not made
payment-failed-text = The payment did not go through or was cancelled; nothing was taken. You can try again from your order page.
payment-to-order = Go to your order
err-payment = The payment gateway could not start or confirm the payment. Please try again in a little while.
