# The packing station (/station). Every word the station shows. The server
# renders each message without arguments into the page's config block; the
# page fills the variables ({ $name }) itself, so no message here may use a
# selector (plural forms and the like).

station-title = Packing station
station-switch-language = বাংলা
station-online = Online
station-offline = Offline

station-camera-heading = Camera
station-camera-starting = Starting the camera…
station-camera-denied = Proof capture needs the camera and microphone, and this browser is not allowed to use them. Allow the camera and microphone for this site in the browser's settings, then press “Try the camera again”. Meanwhile you can still type order numbers and see orders, and uploads go on.
station-camera-missing = No camera was found. Proof capture needs a camera and a microphone: connect one and press “Try the camera again”. Meanwhile you can still type order numbers and see orders.
station-camera-busy = The camera is being used by another app, or it stopped. Close the other app and press “Try the camera again”.
station-camera-insecure = The camera works only when the station is opened at a secure (https) address. Proof capture needs the camera and microphone; order look-up and uploads still work.
station-camera-unsupported = This browser cannot use the camera. Proof capture needs the camera and microphone: use a recent Chrome or Firefox. Order look-up and uploads still work.
station-camera-error = The camera could not start ({ $detail }). Proof capture needs the camera and microphone. You can still type order numbers and see orders.
station-camera-retry = Try the camera again
station-mic-unavailable = The microphone is not available, so videos will have no sound. Allow the microphone for this site to record sound.
station-scan-hint = Hold the packing slip's barcode or QR code up to the camera, scan it with a barcode scanner, or type the order number.

station-record-start = Start recording
station-record-stop = Stop recording
station-photo-take = Take photo
station-recording = Recording { $number } · { $elapsed }
station-record-unsupported = This browser cannot record video. Take photos instead.
station-record-failed = Recording could not start ({ $detail }).
station-photo-failed = The photo could not be taken ({ $detail }).
station-storage-full = The device's storage is full, so recording stopped. Free some space; what was recorded is kept.
station-storage-unavailable = This browser cannot keep proofs on the device ({ $detail }), so capture is off. Open the station in a normal (not private) window.
station-app-error = The station could not start: { $detail }

station-kind-label = Proof of
station-kind-packing = Packing
station-kind-delivery = Delivery
station-kind-return = Return
station-auto-record = Start recording when an order is scanned

station-entry-label = Order number
station-entry-placeholder = e.g. CM-000123
station-entry-submit = Open

station-order-none = Scan a packing slip or type an order number.
station-order-loading = Looking up { $number }…
station-order-heading = Order { $number }
station-order-not-found = There is no order { $number }. Check the slip and scan again.
station-order-invalid = “{ $text }” is not an order number. Order numbers look like CM-000123.
station-order-offline = No connection: the details of { $number } cannot be shown now. Proof can still be recorded; it uploads when the connection is back.
station-order-signin = Your sign-in has ended. Sign in again to see orders and upload proof.
station-order-error = Order { $number } could not be loaded ({ $detail }). Try again.
station-signin-link = Sign in again
station-order-items = Items to pack
station-item-quantity = Quantity { $quantity }
station-item-sku = SKU { $sku }
station-order-count = Pieces in all: { $count }
station-order-instructions = Delivery instructions
station-order-area = Area

station-status-placed = Placed
station-status-confirmed = Confirmed
station-status-packed = Packed
station-status-handed_to_courier = With the courier
station-status-delivered = Delivered
station-status-returned = Returned
station-status-cancelled = Cancelled

station-queue-heading = Uploads
station-queue-empty = Nothing to upload.
station-queue-retry = Try again
station-media-video = Video
station-media-photo = Photo
station-size-mb = { $size } MB
station-state-recording = Recording
station-state-waiting = Waiting to upload
station-state-uploading = Uploading { $percent }%
station-state-done = Uploaded
station-state-failed = Not uploaded: { $reason }
station-reason-offline = no connection; it uploads when the connection is back
station-reason-signin = sign in again to upload
station-reason-server = the server refused it ({ $status }) { $detail }
station-reason-storage = the device's storage is full
station-reason-unknown = { $detail }

# Shown by the server, not the page: a signed-in staff member whose role may
# not record proof.
station-forbidden = Your role does not allow recording proof, so the packing station is not open to you. Ask an administrator if you pack or deliver orders.
