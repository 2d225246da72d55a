<?php
/**
 * Plugin Name: stockrelay test observer
 * Description: Test-only must-use plugin for the stockrelay real-WooCommerce tier
 *   (scripts/woo-test copies it into build/woo-test/site/wp-content/mu-plugins/).
 *   It watches the real REST API instead of faking it: a request log and the
 *   stock quantities WooCommerce saved through the API, as JSON lines in
 *   STOCKRELAY_TEST_STATE, so tests/emulators/woo_real.py can assert what the
 *   emulator's history shows. The only knobs it turns are ones a shop owner has
 *   too: WooCommerce's batch-size filter and (for seeding duplicate SKUs, which
 *   real shops end up with through imports) its unique-SKU filter, the latter
 *   only for requests marked as coming from the test client. Never install this
 *   on a real shop.
 */

if ( ! defined( 'ABSPATH' ) || ! defined( 'STOCKRELAY_TEST_STATE' ) ) {
	return;
}

function stockrelay_test_config() {
	static $config = null;
	if ( null === $config ) {
		$raw    = @file_get_contents( STOCKRELAY_TEST_STATE . '/config.json' );
		$config = $raw ? json_decode( $raw, true ) : array();
		if ( ! is_array( $config ) ) {
			$config = array();
		}
	}
	return $config;
}

function stockrelay_test_append( $file, $entry ) {
	// Four php -S workers append concurrently: one locked write per line.
	file_put_contents( STOCKRELAY_TEST_STATE . '/' . $file, wp_json_encode( $entry ) . "\n", FILE_APPEND | LOCK_EX );
}

// Requests the test harness itself sends (seeding, reading stock) are not the sidecar's.
function stockrelay_test_from_client() {
	return ! empty( $_SERVER['HTTP_X_STOCKRELAY_TEST_CLIENT'] );
}

function stockrelay_test_now_ms() {
	return (int) round( microtime( true ) * 1000 );
}

function stockrelay_test_path() {
	return isset( $_SERVER['REQUEST_URI'] ) ? (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) : '';
}

// Nothing in this site may run work in loopback requests behind the tests' back.
add_filter( 'action_scheduler_allow_async_request_runner', '__return_false' );

add_filter(
	'woocommerce_rest_batch_items_limit',
	function ( $limit ) {
		$config = stockrelay_test_config();
		// The harness seeds and wipes in batches of 100 whatever a test set for the sidecar.
		if ( stockrelay_test_from_client() || ! isset( $config['batch_limit'] ) ) {
			return $limit;
		}
		return (int) $config['batch_limit'];
	}
);

add_filter(
	'rest_pre_dispatch',
	function ( $result ) {
		$config = stockrelay_test_config();
		if ( ! stockrelay_test_from_client() && ! empty( $config['latency_ms'] ) ) {
			usleep( 1000 * (int) $config['latency_ms'] );
		}
		return $result;
	}
);

// Orders in: the webhook receiver (stockrelayd --listen) runs on a port WordPress
// does not deliver to by default (wp_safe_remote_post allows 80, 443, 8080); a
// shop owner adds it with this same filter. And nothing runs the Action
// Scheduler queue here (DISABLE_WP_CRON), so deliveries run at the end of the
// request that changed the order, as WooCommerce does without async delivery.
add_filter(
	'http_allowed_safe_ports',
	function ( $ports ) {
		$config = stockrelay_test_config();
		foreach ( (array) ( $config['webhook_ports'] ?? array() ) as $port ) {
			$ports[] = (int) $port;
		}
		return $ports;
	}
);
add_filter(
	'woocommerce_webhook_deliver_async',
	function ( $async ) {
		$config = stockrelay_test_config();
		return empty( $config['webhooks_sync'] ) ? $async : false;
	}
);

if ( stockrelay_test_from_client() && ! empty( $_SERVER['HTTP_X_STOCKRELAY_TEST_ALLOW_DUPLICATE_SKU'] ) ) {
	add_filter( 'wc_product_has_unique_sku', '__return_false' );
}

// What WooCommerce saved, after the save: one line per product or variation written through the API.
function stockrelay_test_record_stock( $object, $request, $creating ) {
	if ( $creating || stockrelay_test_from_client() || ! isset( $request['stock_quantity'] ) ) {
		return;
	}
	$via = '/batch' === substr( stockrelay_test_path(), -6 ) ? 'batch' : 'put';
	stockrelay_test_append(
		'history.jsonl',
		array(
			'id'             => $object->get_id(),
			'parent_id'      => $object->get_parent_id(),
			'sku'            => $object->get_sku(),
			'stock_quantity' => $object->get_stock_quantity(),
			'manage_stock'   => $object->get_manage_stock(),
			'at_ms'          => stockrelay_test_now_ms(),
			'via'            => $via,
		)
	);
}
add_action( 'woocommerce_rest_insert_product_object', 'stockrelay_test_record_stock', 10, 3 );
add_action( 'woocommerce_rest_insert_product_variation_object', 'stockrelay_test_record_stock', 10, 3 );

// The request log, written when PHP is done so the final status is known.
add_action(
	'shutdown',
	function () {
		$path = stockrelay_test_path();
		if ( 0 !== strpos( $path, '/wp-json/' ) || stockrelay_test_from_client() ) {
			return;
		}
		$query = array();
		if ( isset( $_SERVER['QUERY_STRING'] ) ) {
			parse_str( $_SERVER['QUERY_STRING'], $query );
		}
		$auth   = 'none';
		$header = isset( $_SERVER['HTTP_AUTHORIZATION'] ) ? (string) $_SERVER['HTTP_AUTHORIZATION'] : '';
		if ( 0 === stripos( $header, 'Basic ' ) || ! empty( $_SERVER['PHP_AUTH_USER'] ) ) {
			$auth = 'basic';
		} elseif ( isset( $query['oauth_signature_method'] ) ) {
			$auth = 'oauth1:' . $query['oauth_signature_method'];
		} elseif ( 0 === stripos( $header, 'OAuth ' ) ) {
			$auth = preg_match( '/oauth_signature_method="([^"]*)"/', $header, $m ) ? 'oauth1:' . rawurldecode( $m[1] ) : 'oauth1:';
		} elseif ( isset( $query['consumer_key'] ) ) {
			$auth = 'query';
		}
		// As the emulator logs it: no credentials, no OAuth parameters.
		foreach ( array_keys( $query ) as $name ) {
			if ( 0 === strpos( $name, 'oauth_' ) || in_array( $name, array( 'consumer_key', 'consumer_secret' ), true ) ) {
				unset( $query[ $name ] );
			}
		}
		$items = null;
		if ( '/batch' === substr( $path, -6 ) ) {
			$body  = json_decode( (string) file_get_contents( 'php://input' ), true );
			$items = 0;
			foreach ( array( 'create', 'update', 'delete' ) as $op ) {
				if ( is_array( $body ) && isset( $body[ $op ] ) && is_array( $body[ $op ] ) ) {
					$items += count( $body[ $op ] );
				}
			}
		}
		stockrelay_test_append(
			'requests.jsonl',
			array(
				'at_ms'  => stockrelay_test_now_ms(),
				'method' => isset( $_SERVER['REQUEST_METHOD'] ) ? $_SERVER['REQUEST_METHOD'] : '',
				'path'   => $path . ( $query ? '?' . http_build_query( $query ) : '' ),
				'status' => http_response_code(),
				'items'  => $items,
				'auth'   => $auth,
			)
		);
	},
	1000
);
