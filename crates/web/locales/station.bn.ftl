# প্যাকিং স্টেশন (/station)। স্টেশনে দেখানো প্রতিটি কথা। সার্ভার প্রতিটি
# বার্তা আর্গুমেন্ট ছাড়া পাতার কনফিগ ব্লকে বসায়; চলকগুলো ({ $name }) পাতা
# নিজেই পূরণ করে, তাই এখানে কোনো বার্তায় সিলেক্টর (বহুবচন ইত্যাদি) চলবে না।

station-title = প্যাকিং স্টেশন
station-switch-language = English
station-online = অনলাইন
station-offline = অফলাইন

station-camera-heading = ক্যামেরা
station-camera-starting = ক্যামেরা চালু হচ্ছে…
station-camera-denied = প্রমাণ রেকর্ড করতে ক্যামেরা ও মাইক্রোফোন লাগে, কিন্তু এই ব্রাউজারকে সেগুলো ব্যবহারের অনুমতি দেওয়া হয়নি। ব্রাউজারের সেটিংসে এই সাইটের জন্য ক্যামেরা ও মাইক্রোফোনের অনুমতি দিন, তারপর “আবার ক্যামেরা চালু করুন” চাপুন। এর মধ্যেও অর্ডার নম্বর লিখে অর্ডার দেখা যাবে, আর আপলোড চলতে থাকবে।
station-camera-missing = কোনো ক্যামেরা পাওয়া যায়নি। প্রমাণ রেকর্ড করতে ক্যামেরা ও মাইক্রোফোন লাগে: ক্যামেরা লাগিয়ে “আবার ক্যামেরা চালু করুন” চাপুন। এর মধ্যেও অর্ডার নম্বর লিখে অর্ডার দেখা যাবে।
station-camera-busy = ক্যামেরাটি অন্য কোনো অ্যাপ ব্যবহার করছে, বা বন্ধ হয়ে গেছে। অন্য অ্যাপটি বন্ধ করে “আবার ক্যামেরা চালু করুন” চাপুন।
station-camera-insecure = স্টেশনটি নিরাপদ (https) ঠিকানায় খুললেই কেবল ক্যামেরা কাজ করে। প্রমাণ রেকর্ড করতে ক্যামেরা ও মাইক্রোফোন লাগে; অর্ডার দেখা ও আপলোড চলবে।
station-camera-unsupported = এই ব্রাউজার ক্যামেরা ব্যবহার করতে পারে না। প্রমাণ রেকর্ড করতে ক্যামেরা ও মাইক্রোফোন লাগে: Chrome বা Firefox-এর নতুন সংস্করণ ব্যবহার করুন। অর্ডার দেখা ও আপলোড চলবে।
station-camera-error = ক্যামেরা চালু করা গেল না ({ $detail })। প্রমাণ রেকর্ড করতে ক্যামেরা ও মাইক্রোফোন লাগে। এর মধ্যেও অর্ডার নম্বর লিখে অর্ডার দেখা যাবে।
station-camera-retry = আবার ক্যামেরা চালু করুন
station-mic-unavailable = মাইক্রোফোন পাওয়া যাচ্ছে না, তাই ভিডিওতে শব্দ থাকবে না। শব্দসহ রেকর্ড করতে এই সাইটকে মাইক্রোফোনের অনুমতি দিন।
station-scan-hint = প্যাকিং স্লিপের বারকোড বা QR কোড ক্যামেরার সামনে ধরুন, বারকোড স্ক্যানার দিয়ে স্ক্যান করুন, অথবা অর্ডার নম্বর লিখুন।

station-record-start = রেকর্ডিং শুরু করুন
station-record-stop = রেকর্ডিং থামান
station-photo-take = ছবি তুলুন
station-recording = রেকর্ড হচ্ছে { $number } · { $elapsed }
station-record-unsupported = এই ব্রাউজারে ভিডিও রেকর্ড করা যায় না। এর বদলে ছবি তুলুন।
station-record-failed = রেকর্ডিং শুরু করা গেল না ({ $detail })।
station-photo-failed = ছবি তোলা গেল না ({ $detail })।
station-storage-full = ডিভাইসে জায়গা নেই, তাই রেকর্ডিং থেমে গেছে। কিছু জায়গা খালি করুন; যা রেকর্ড হয়েছে তা রাখা আছে।
station-storage-unavailable = এই ব্রাউজার ডিভাইসে প্রমাণ রাখতে পারছে না ({ $detail }), তাই রেকর্ডিং বন্ধ। স্টেশনটি সাধারণ (প্রাইভেট নয়) উইন্ডোতে খুলুন।
station-app-error = স্টেশন চালু করা গেল না: { $detail }

station-kind-label = কিসের প্রমাণ
station-kind-packing = প্যাকিং
station-kind-delivery = ডেলিভারি
station-kind-return = ফেরত
station-auto-record = অর্ডার স্ক্যান করলেই রেকর্ডিং শুরু হবে

station-entry-label = অর্ডার নম্বর
station-entry-placeholder = যেমন CM-000123
station-entry-submit = খুলুন

station-order-none = প্যাকিং স্লিপ স্ক্যান করুন বা অর্ডার নম্বর লিখুন।
station-order-loading = { $number } খোঁজা হচ্ছে…
station-order-heading = অর্ডার { $number }
station-order-not-found = { $number } নম্বরের কোনো অর্ডার নেই। স্লিপটি দেখে আবার স্ক্যান করুন।
station-order-invalid = “{ $text }” কোনো অর্ডার নম্বর নয়। অর্ডার নম্বর দেখতে এমন: CM-000123।
station-order-offline = সংযোগ নেই: { $number }-এর বিবরণ এখন দেখানো যাচ্ছে না। তবু প্রমাণ রেকর্ড করা যাবে; সংযোগ ফিরলে আপলোড হবে।
station-order-signin = আপনার সাইন-ইনের মেয়াদ শেষ। অর্ডার দেখতে ও প্রমাণ আপলোড করতে আবার সাইন-ইন করুন।
station-order-error = { $number } অর্ডারটি আনা গেল না ({ $detail })। আবার চেষ্টা করুন।
station-signin-link = আবার সাইন-ইন করুন
station-order-items = যা প্যাক করতে হবে
station-item-quantity = পরিমাণ { $quantity }
station-item-sku = SKU { $sku }
station-order-count = মোট { $count }টি
station-order-instructions = ডেলিভারির নির্দেশনা
station-order-area = এলাকা

station-status-placed = অর্ডার হয়েছে
station-status-confirmed = নিশ্চিত
station-status-packed = প্যাক হয়েছে
station-status-handed_to_courier = কুরিয়ারের কাছে
station-status-delivered = ডেলিভারি হয়েছে
station-status-returned = ফেরত এসেছে
station-status-cancelled = বাতিল

station-queue-heading = আপলোড
station-queue-empty = আপলোডের কিছু নেই।
station-queue-retry = আবার চেষ্টা করুন
station-media-video = ভিডিও
station-media-photo = ছবি
station-size-mb = { $size } এমবি
station-state-recording = রেকর্ড হচ্ছে
station-state-waiting = আপলোডের অপেক্ষায়
station-state-uploading = আপলোড হচ্ছে { $percent }%
station-state-done = আপলোড হয়েছে
station-state-failed = আপলোড হয়নি: { $reason }
station-reason-offline = সংযোগ নেই; সংযোগ ফিরলে আপলোড হবে
station-reason-signin = আপলোড করতে আবার সাইন-ইন করুন
station-reason-server = সার্ভার এটি নেয়নি ({ $status }) { $detail }
station-reason-storage = ডিভাইসে জায়গা নেই
station-reason-unknown = { $detail }

# Shown by the server, not the page: a signed-in staff member whose role may
# not record proof.
station-forbidden = আপনার ভূমিকায় প্রমাণ রেকর্ড করার অনুমতি নেই, তাই প্যাকিং স্টেশন আপনার জন্য খোলা নয়। আপনি অর্ডার প্যাক বা ডেলিভারি করলে অ্যাডমিনিস্ট্রেটরকে বলুন।
